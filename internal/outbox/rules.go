package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// ReplyWindow is how long after a customer's message on a contact point an
// answer there counts as a reply they asked for (WhatsApp's customer-service
// window is the same 24 hours).
const ReplyWindow = 24 * time.Hour

// RuleBound is a Sender whose messages follow the contact rules (Decide):
// messaging channels, where an unasked message needs consent and waits out
// quiet hours. Email replies are exempt: a case already asks for consent
// before replying on a channel the customer did not use.
type RuleBound interface {
	ContactRules() bool
}

// Facts are what the contact rules decide on.
type Facts struct {
	Now time.Time
	// LastInbound is the customer's latest message on the contact point
	// (zero if none).
	LastInbound time.Time
	// Channel is the consent channel (the contact point's kind) and
	// Consent the customer's status on it: opted_in, opted_out or "".
	Channel string
	Consent string
	// Quiet are the calendars during whose closed hours unasked messages
	// wait; nil when there are no quiet hours.
	Quiet []*businesshours.Calendar
}

// Verdict is what to do with a message now: send it, hold it until
// HoldUntil, or refuse it for good (Refusal says why).
type Verdict struct {
	HoldUntil time.Time
	Refusal   string
}

// Send tells whether the message may go out now.
func (v Verdict) Send() bool { return v.Refusal == "" && v.HoldUntil.IsZero() }

// Decide applies the contact rules. An opt-out always wins (the provider
// would refuse anyway, and the customer said so). A reply within the
// window goes out at once. Anything else needs consent and waits until no
// quiet hours hold.
func Decide(f Facts) Verdict {
	if f.Consent == "opted_out" {
		return Verdict{Refusal: fmt.Sprintf("the customer opted out of %s; not sent", f.Channel)}
	}
	if !f.LastInbound.IsZero() && f.Now.Sub(f.LastInbound) <= ReplyWindow {
		return Verdict{}
	}
	if f.Consent != "opted_in" {
		return Verdict{Refusal: fmt.Sprintf("the customer has not agreed to be contacted by %s and has not written in the last 24 hours; not sent", f.Channel)}
	}
	at := f.Now
	// Calendars may close back to back (a contact point's and the
	// customer's own quiet hours): move on until every one is open.
	for range 8 {
		moved := false
		for _, c := range f.Quiet {
			if c.IsOpen(at) {
				continue
			}
			next := c.NextOpen(at)
			if next.IsZero() {
				return Verdict{Refusal: "quiet hours never end on this contact point's calendar; not sent"}
			}
			at, moved = next, true
		}
		if !moved {
			break
		}
	}
	if at.After(f.Now) {
		return Verdict{HoldUntil: at.UTC()}
	}
	return Verdict{}
}

// QuietSetting is the "quiet_hours" setting of a contact point: either a
// span such as "21:00-08:00" (in the contact point's "time_zone" setting,
// UTC when none) or {"calendar_id": "…"}, quiet whenever that business-hours
// calendar is closed, or {"hours": "21:00-08:00", "time_zone": "…"}.
type QuietSetting struct {
	Hours      string
	TimeZone   string
	CalendarID string
}

// ParseQuietSetting reads the quiet hours out of a contact point's settings.
func ParseQuietSetting(settings json.RawMessage) (QuietSetting, error) {
	var doc struct {
		Quiet    json.RawMessage `json:"quiet_hours"`
		TimeZone string          `json:"time_zone"`
	}
	if len(settings) == 0 {
		return QuietSetting{}, nil
	}
	if err := json.Unmarshal(settings, &doc); err != nil {
		return QuietSetting{}, fmt.Errorf("settings: %w", err)
	}
	q := QuietSetting{TimeZone: doc.TimeZone}
	if len(doc.Quiet) == 0 || string(doc.Quiet) == "null" {
		return q, nil
	}
	if err := json.Unmarshal(doc.Quiet, &q.Hours); err == nil {
		return q, nil
	}
	var obj struct {
		Hours      string `json:"hours"`
		TimeZone   string `json:"time_zone"`
		CalendarID string `json:"calendar_id"`
	}
	if err := json.Unmarshal(doc.Quiet, &obj); err != nil {
		return q, fmt.Errorf(`quiet_hours: want "21:00-08:00" or {"calendar_id": "…"}`)
	}
	q.Hours, q.CalendarID = obj.Hours, obj.CalendarID
	if obj.TimeZone != "" {
		q.TimeZone = obj.TimeZone
	}
	return q, nil
}

// QuietCalendar turns quiet hours ("21:00-08:00", every day) in a time zone
// into the calendar of the hours when sending is allowed.
func QuietCalendar(hours, tz string) (*businesshours.Calendar, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(hours), "-")
	if !ok {
		return nil, fmt.Errorf("quiet hours %q: want HH:MM-HH:MM", hours)
	}
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if from == to {
		return nil, fmt.Errorf("quiet hours %q: start and end are the same", hours)
	}
	var open string
	if from < to {
		// Quiet inside the day: open before and after.
		parts := []string{}
		if from != "00:00" {
			parts = append(parts, "00:00-"+from)
		}
		if to != "24:00" {
			parts = append(parts, to+"-24:00")
		}
		open = strings.Join(parts, ",")
	} else {
		// Across midnight: open between the end and the start.
		open = to + "-" + from
		if from == "24:00" {
			open = to + "-24:00"
		}
	}
	if tz == "" {
		tz = "UTC"
	}
	week := map[string]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = open
	}
	return businesshours.Parse("quiet hours", tz, week, nil)
}

// CalendarSource returns the stored business-hours calendars by id.
type CalendarSource func(ctx context.Context) (map[string]*businesshours.Calendar, error)

// UseContactRules gives the outbox what the contact rules read: customers
// (consent) and business-hours calendars (quiet hours by calendar). Without
// it RuleBound senders send as any other.
func (s *Service) UseContactRules(customers *customer.Service, calendars CalendarSource) {
	s.mu.Lock()
	s.customers, s.calendars = customers, calendars
	s.mu.Unlock()
}

// facts gathers the Facts of one delivery.
func (s *Service) facts(ctx context.Context, d Delivery) (Facts, error) {
	s.mu.RLock()
	customers, calendars := s.customers, s.calendars
	s.mu.RUnlock()
	f := Facts{Now: s.now().UTC(), Channel: d.Channel}
	cust, err := customers.Get(ctx, d.Interaction.CustomerID)
	if err != nil {
		return f, fmt.Errorf("reading the customer: %w", err)
	}
	f.Consent = cust.Consent[d.Channel].Status
	last, err := s.LastInbound(ctx, d.Interaction.CustomerID, d.ContactPointID)
	if err != nil {
		return f, err
	}
	f.LastInbound = last
	var settings string
	if err := s.db.QueryRow(ctx, "SELECT settings FROM contact_points WHERE id = ?", d.ContactPointID).Scan(&settings); err != nil {
		return f, fmt.Errorf("reading contact point %s: %w", d.ContactPointID, err)
	}
	q, err := ParseQuietSetting(json.RawMessage(settings))
	if err != nil {
		// A bad setting must not send at night: refuse and say why.
		return f, Permanent(fmt.Errorf("contact point %s: %w", d.ContactPointID, err))
	}
	if q.Hours != "" {
		c, err := QuietCalendar(q.Hours, q.TimeZone)
		if err != nil {
			return f, Permanent(fmt.Errorf("contact point %s: %w", d.ContactPointID, err))
		}
		f.Quiet = append(f.Quiet, c)
	}
	if q.CalendarID != "" && calendars != nil {
		cals, err := calendars(ctx)
		if err != nil {
			return f, fmt.Errorf("reading calendars: %w", err)
		}
		c, ok := cals[q.CalendarID]
		if !ok {
			return f, Permanent(fmt.Errorf("contact point %s: quiet_hours names calendar %s, which does not exist", d.ContactPointID, q.CalendarID))
		}
		f.Quiet = append(f.Quiet, c)
	}
	// The customer's own quiet hours on this channel, in their time zone
	// (trait "timezone") or else the contact point's.
	if qh := cust.Consent[d.Channel].QuietHours; qh != "" {
		tz, _ := cust.Traits["timezone"].(string)
		if _, err := time.LoadLocation(tz); tz == "" || err != nil {
			tz = q.TimeZone
		}
		if c, err := QuietCalendar(qh, tz); err == nil {
			f.Quiet = append(f.Quiet, c)
		}
	}
	return f, nil
}

// LastInbound is when the customer (any member of their merge group) last
// wrote on a contact point; zero if never.
func (s *Service) LastInbound(ctx context.Context, customerID, cpID id.ID) (time.Time, error) {
	var at *int64
	err := s.db.QueryRow(ctx, `SELECT MAX(i.occurred_at) FROM interactions i
		WHERE i.customer_id IN (SELECT m.id FROM customers m WHERE m.root_id = (SELECT c.root_id FROM customers c WHERE c.id = ?))
		AND i.contact_point_id = ? AND i.direction = 'inbound'`, customerID, cpID).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the customer's last message: %w", err)
	}
	if at == nil {
		return time.Time{}, nil
	}
	return time.UnixMicro(*at).UTC(), nil
}
