package routing

import (
	"context"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// Queue business hours. A queue names a calendar (calendar_id); the engine
// asks IsOpen on every tick, so the answer comes from calendars held in
// memory and reloaded every CalendarRefresh: an edited calendar takes
// effect within that time, without touching the queues.

// CalendarRefresh is how often the router reloads the calendars.
const CalendarRefresh = 30 * time.Second

// CalendarSource loads every business-hours calendar by id.
type CalendarSource func(ctx context.Context) (map[string]*businesshours.Calendar, error)

// SetCalendars gives the service its calendars (call before the first
// command). Without it, queues with a calendar_id are refused.
func (s *Service) SetCalendars(src CalendarSource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calendarSource = src
}

// refreshCalendars reloads the calendars; on failure the old ones stay.
func (s *Service) refreshCalendars(ctx context.Context) error {
	if s.calendarSource == nil {
		return nil
	}
	cals, err := s.calendarSource(ctx)
	if err != nil {
		return err
	}
	s.calendars.Store(&cals)
	s.calendarsAt.Store(time.Now().UnixNano())
	return nil
}

// withHours sets q.IsOpen from its calendar; a calendar that is gone (or
// not loaded) leaves the queue open rather than stranding its contacts.
func (s *Service) withHours(q engine.Queue) engine.Queue {
	if q.CalendarID == "" {
		q.IsOpen = nil
		return q
	}
	calID := q.CalendarID
	q.IsOpen = func(t time.Time) bool {
		m := s.calendars.Load()
		if m == nil {
			return true
		}
		c, ok := (*m)[calID]
		return !ok || c.IsOpen(t)
	}
	return q
}

// checkCalendar refuses a calendar_id that names no calendar.
func (s *Service) checkCalendar(ctx context.Context, calID string) error {
	if calID == "" {
		return nil
	}
	if s.calendarSource == nil {
		return errs.Invalidf("calendar_id", "business-hours calendars are not available here")
	}
	if err := s.refreshCalendars(ctx); err != nil {
		return err
	}
	if m := s.calendars.Load(); m == nil || (*m)[calID] == nil {
		return errs.Invalidf("calendar_id", "unknown calendar %q", calID)
	}
	return nil
}
