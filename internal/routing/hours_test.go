package routing

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A queue with business hours offers nothing while closed; its contacts
// wait and are offered when it opens, also after a restart.
func TestQueueBusinessHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		office, err := businesshours.Parse("Office", "Europe/Berlin", map[string]string{
			"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		source := func(context.Context) (map[string]*businesshours.Calendar, error) {
			return map[string]*businesshours.Calendar{"77": office}, nil
		}
		f := newFixture(t, db)
		f.svc.SetCalendars(source)
		if _, err := f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Bad", Queue: engine.Queue{CalendarID: "78"}}); !isInvalid(err, "calendar_id") {
			t.Fatalf("unknown calendar: %v", err)
		}
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Phone", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelVoice}, CalendarID: "77"}}))
		if q.CalendarID != "77" {
			t.Fatalf("stored queue: %+v", q)
		}
		ann := f.user("ann@example.com")
		must(f.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelVoice: 1}, Queues: []id.ID{q.ID}}))
		must(f.svc.SetPresence(ctx, ann, engine.Available, ""))

		// Monday 18:30 in Berlin: closed.
		f.clock = time.Date(2026, 3, 2, 17, 30, 0, 0, time.UTC)
		must(0, f.svc.Tick(ctx))
		w := must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelVoice}))
		if w.State != StateWaiting {
			t.Fatalf("offered while closed: %+v", w)
		}
		// A restart overnight keeps the hours.
		f.svc = f.newService()
		f.svc.SetCalendars(source)
		f.clock = time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC) // 06:00 Berlin
		must(0, f.svc.Tick(ctx))
		if got := must(f.svc.GetItem(ctx, w.ID)); got.State != StateWaiting {
			t.Fatalf("offered before opening: %+v", got)
		}
		// Tuesday 09:00 in Berlin: open, and the waiting call is offered.
		f.clock = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
		must(0, f.svc.Tick(ctx))
		if got := must(f.svc.GetItem(ctx, w.ID)); got.State != StateOffered || got.AgentID != ann {
			t.Fatalf("at opening: %+v", got)
		}
	})
}

func isInvalid(err error, field string) bool {
	var inv *errs.Invalid
	return errors.As(err, &inv) && inv.Field == field
}
