package routing

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

type fixture struct {
	t     *testing.T
	db    *store.DB
	bus   *bus.Local
	clock time.Time
	svc   *Service
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	f := &fixture{t: t, db: db, bus: bus.NewLocal(), clock: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	t.Cleanup(func() { f.bus.Close() })
	f.svc = f.newService()
	return f
}

// newService is a fresh service on the same store, as after a restart.
func (f *fixture) newService() *Service {
	s := NewService(f.db, f.bus, nil, engine.Config{})
	s.Now = func() time.Time { return f.clock }
	f.t.Cleanup(func() { s.Close() })
	return s
}

func (f *fixture) user(email string) id.ID {
	f.t.Helper()
	u, err := access.NewService(f.db).CreateUser(context.Background(), email, email, access.Agent, "correct horse battery", "test")
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// must returns v or panics with err (the test fails with the stack).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestOfferAcceptCompleteIsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		sub := f.bus.Subscribe("routing")
		defer sub.Close()
		ann := f.user("ann@example.com")
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Support", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelChat}}}))
		must(f.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelChat: 2}, Queues: []id.ID{q.ID}}))
		a := must(f.svc.SetPresence(ctx, ann, engine.Available, ""))
		if a.Presence != engine.Available {
			t.Fatalf("presence %q", a.Presence)
		}
		f.clock = f.clock.Add(time.Second)
		w := must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat, CustomerID: 77, CaseID: 88}))
		if w.State != StateOffered || w.AgentID != ann || w.CaseID != 88 || w.OfferedAt == nil {
			t.Fatalf("after enqueue: %+v", w)
		}
		f.clock = f.clock.Add(2 * time.Second)
		w = must(f.svc.Accept(ctx, w.ID, ann))
		if w.State != StateAssigned || w.AssignedAt == nil {
			t.Fatalf("after accept: %+v", w)
		}
		if _, err := f.svc.Accept(ctx, w.ID, ann); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("second accept: %v", err)
		}
		f.clock = f.clock.Add(time.Minute)
		w = must(f.svc.Complete(ctx, w.ID, ann))
		if w.State != StateCompleted || w.EndedAt == nil || !w.EndedAt.Equal(f.clock) || w.EndReason != "completed" {
			t.Fatalf("after complete: %+v", w)
		}
		want := []string{"item_queued", "offer_made", "offer_accepted", "item_assigned", "item_completed"}
		rows, err := db.Query(ctx, "SELECT type FROM routing_events WHERE item_id = ? ORDER BY seq", int64(w.ID))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var s string
			rows.Scan(&s)
			got = append(got, s)
		}
		rows.Close()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("item events %v, want %v", got, want)
		}
		if n := f.count("SELECT COUNT(*) FROM routing_events WHERE type = 'presence_changed' AND agent_id = ?", int64(ann)); n < 2 {
			t.Errorf("%d presence events", n)
		}
		if n := f.count("SELECT answered FROM routing_queues WHERE id = ?", int64(q.ID)); n != 1 {
			t.Errorf("answered %d", n)
		}
		st := must(f.svc.Stats(ctx, q.ID))
		if st.Answered != 1 || st.Waiting != 0 || st.Agents[engine.Available] != 1 {
			t.Errorf("stats %+v", st)
		}
		// Every event went out on the bus, after the commit.
		seen := map[string]bool{}
		for len(sub.C()) > 0 {
			e := <-sub.C()
			seen[e.Type] = true
		}
		for _, k := range want {
			if !seen["routing."+k] {
				t.Errorf("no bus event routing.%s (got %v)", k, seen)
			}
		}
		// Bad input names fields; unknown things are not found.
		if _, err := f.svc.Enqueue(ctx, NewItem{QueueID: q.ID}); !isField(err, "channel") {
			t.Errorf("no channel: %v", err)
		}
		if _, err := f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelVoice}); !isField(err, "channel") {
			t.Errorf("wrong channel: %v", err)
		}
		if _, err := f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Support"}); !isField(err, "name") {
			t.Errorf("duplicate name: %v", err)
		}
		if _, err := f.svc.SetAgentProfile(ctx, 12345, AgentProfile{}); !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("unknown user: %v", err)
		}
		if _, err := f.svc.SetPresence(ctx, ann, engine.Busy, ""); !isField(err, "presence") {
			t.Errorf("busy: %v", err)
		}
		// The failed duplicate left the engine as stored.
		if qs, err := f.svc.ListQueues(ctx); err != nil || len(qs) != 1 {
			t.Fatalf("queues %v %v", qs, err)
		}
	})
}

func isField(err error, field string) bool {
	var inv *errs.Invalid
	return errors.As(err, &inv) && inv.Field == field
}

func TestRestartKeepsWaitingAndAssignedItems(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ann := f.user("ann@example.com")
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Calls", Queue: engine.Queue{Target: engine.ServiceLevel{Percent: 80, Within: 20 * time.Second}}}))
		must(f.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelVoice: 1}}))
		must(f.svc.SetPresence(ctx, ann, engine.Available, ""))
		first := must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelVoice}))
		must(f.svc.Accept(ctx, first.ID, ann))
		f.clock = f.clock.Add(time.Second)
		second := must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelVoice, Priority: 5}))
		if second.State != StateWaiting {
			t.Fatalf("second: %+v", second)
		}
		before := f.svc.eng.Snapshot()

		// A restart: a new service on the same store.
		f.svc.Close()
		s2 := f.newService()
		st := must(s2.Stats(ctx, q.ID))
		if st.Waiting != 1 || st.Assigned != 1 || st.Answered != 1 {
			t.Fatalf("after restart: %+v", st)
		}
		after := s2.eng.Snapshot()
		after.Now, before.Now = time.Time{}, time.Time{}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("restored state differs:\nbefore %+v\nafter  %+v", before, after)
		}
		// Work goes on: completing the first offers the second.
		f.clock = f.clock.Add(time.Minute)
		must(s2.Complete(ctx, first.ID, ann))
		w := must(s2.GetItem(ctx, second.ID))
		if w.State != StateOffered || w.AgentID != ann {
			t.Fatalf("second after completion: %+v", w)
		}
		// An offer that times out after a restart times out (Tick).
		s2.Close()
		s3 := f.newService()
		f.clock = f.clock.Add(time.Hour)
		if err := s3.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT COUNT(*) FROM routing_events WHERE type = 'offer_timed_out' AND item_id = ?", int64(second.ID)); n != 1 {
			t.Errorf("%d timeouts", n)
		}
		// New ids continue after the stored ones.
		if got := s3.eng.Snapshot().EventSeq; got <= before.EventSeq {
			t.Errorf("event seq %d after %d", got, before.EventSeq)
		}
	})
}

func TestFailedWriteLeavesEngineUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ann := f.user("ann@example.com")
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Chat"}))
		must(f.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelChat: 1}}))
		must(f.svc.SetPresence(ctx, ann, engine.Available, ""))
		snap := f.svc.eng.Snapshot()
		events := f.count("SELECT COUNT(*) FROM routing_events")

		boom := errors.New("disk on fire")
		f.svc.failWrite = func() error { return boom }
		if _, err := f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat}); !errors.Is(err, boom) {
			t.Fatalf("enqueue: %v", err)
		}
		if _, err := f.svc.SetPresence(ctx, ann, engine.Away, "lunch"); !errors.Is(err, boom) {
			t.Fatalf("presence: %v", err)
		}
		// The engine goes back to what the store holds before the next command.
		must(f.svc.Stats(ctx, q.ID))
		got := f.svc.eng.Snapshot()
		got.Now, snap.Now = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, snap) {
			t.Fatalf("engine changed by failed writes:\n%+v\n%+v", got, snap)
		}
		if n := f.count("SELECT COUNT(*) FROM work_items"); n != 0 {
			t.Errorf("%d items stored", n)
		}
		if n := f.count("SELECT COUNT(*) FROM routing_events"); n != events {
			t.Errorf("events %d, want %d", n, events)
		}
		// Once the store works again, so does routing.
		f.svc.failWrite = nil
		w := must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat}))
		if w.State != StateOffered {
			t.Fatalf("after recovery: %+v", w)
		}
	})
}

// Commands arriving together are written together; when the group's write
// fails, each command runs again alone, so only the one that cannot be
// stored fails. After a restart the store holds exactly what was answered.
func TestConcurrentCommandsAreStoredTogetherAndAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Email", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelEmail}}}))
		// Every third write fails: groups fall back to one transaction each,
		// and some of those fail too.
		var writes atomic.Int64
		f.svc.failWrite = func() error {
			if writes.Add(1)%3 == 0 {
				return errors.New("a write that fails")
			}
			return nil
		}
		const n = 40
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := map[id.ID]bool{}
		failed := 0
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w, err := f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelEmail})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				ok[w.ID] = true
			}()
		}
		wg.Wait()
		if len(ok)+failed != n || len(ok) == 0 {
			t.Fatalf("%d stored and %d failed of %d", len(ok), failed, n)
		}
		if got := f.count("SELECT COUNT(*) FROM work_items WHERE state = 'waiting'"); got != len(ok) {
			t.Fatalf("%d waiting items stored, %d enqueues answered ok", got, len(ok))
		}
		f.svc.failWrite = nil
		restarted := f.newService()
		items := must(restarted.ListItems(ctx, ItemQuery{State: StateWaiting}))
		st := must(restarted.Stats(ctx, q.ID))
		if len(items) != len(ok) || st.Waiting != len(ok) {
			t.Fatalf("after a restart: %d stored, engine has %d waiting; want %d", len(items), st.Waiting, len(ok))
		}
		for _, it := range items {
			if !ok[it.ID] {
				t.Fatalf("item %s is stored but its enqueue failed", it.ID)
			}
		}
	})
}
