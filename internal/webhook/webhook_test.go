package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time        { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration)   { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) set(t time.Time)       { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock() *clock                 { return &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }
func ptr[T any](v T) *T                { return &v }
func mid() float64                     { return 0.5 } // no jitter: exactly the nominal backoff
func errIs(err error, target any) bool { return errors.As(err, target) }

// hit is one request the receiver saw.
type hit struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP endpoint answering the statuses it is given in
// turn (then the last one forever).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	hits     []hit
	statuses []int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{r.Header.Clone(), b})
		st := 200
		if len(rc.statuses) > 0 {
			st = rc.statuses[0]
			if len(rc.statuses) > 1 {
				rc.statuses = rc.statuses[1:]
			}
		}
		rc.mu.Unlock()
		w.WriteHeader(st)
		io.WriteString(w, strings.Repeat("x", 100<<10)) // a large answer is read only in part
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}

func setup(t *testing.T, db *store.DB, c *clock) *webhook.Service {
	return webhook.NewService(db, webhook.Options{AllowPrivate: true, Now: c.now, Jitter: mid})
}

func subscribe(t *testing.T, s *webhook.Service, url string, events ...string) *webhook.WithSecret {
	t.Helper()
	sub, err := s.Create(context.Background(), webhook.Spec{Name: ptr("crm"), URL: ptr(url), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func emit(t *testing.T, db *store.DB, s *webhook.Service, typ string, data any) {
	t.Helper()
	err := db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error { return s.Emit(ctx, tx, typ, data) })
	if err != nil {
		t.Fatal(err)
	}
}

func dispatch(t *testing.T, s *webhook.Service) int {
	t.Helper()
	n, err := s.DispatchOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func deliveries(t *testing.T, s *webhook.Service, subID id.ID) []*webhook.Delivery {
	t.Helper()
	ds, _, err := s.Deliveries(context.Background(), subID, webhook.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestSignedDeliveryRetriedWithGrowingDelays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newClock()
		s := setup(t, db, c)
		rc := newReceiver(t, 500, 500, 503, 204)
		sub := subscribe(t, s, rc.URL, webhook.CaseUpdated)
		other := subscribe(t, s, rc.URL+"/other", webhook.OfferMade)
		emit(t, db, s, webhook.CaseUpdated, map[string]any{"case_id": "42", "status": "open"})

		var gaps []time.Duration
		for i := 0; i < 4; i++ {
			if n := dispatch(t, s); n != 1 {
				t.Fatalf("attempt %d: claimed %d deliveries, want 1", i+1, n)
			}
			if n := dispatch(t, s); n != 0 {
				t.Fatalf("attempt %d: a delivery not yet due was claimed again", i+1)
			}
			d := deliveries(t, s, sub.ID)[0]
			if i < 3 {
				if d.State != webhook.Failed || d.Attempts != i+1 || d.NextAttemptAt == nil || d.LastStatus == nil || d.LastError == "" {
					t.Fatalf("after failure %d: %+v", i+1, d)
				}
				if len(d.LastError) > 600 {
					t.Fatalf("last error not truncated: %d bytes", len(d.LastError))
				}
				gap := d.NextAttemptAt.Sub(c.now())
				gaps = append(gaps, gap)
				c.set(*d.NextAttemptAt)
			} else if d.State != webhook.Delivered || d.Attempts != 4 || d.DeliveredAt == nil || *d.LastStatus != 204 || d.NextAttemptAt != nil {
				t.Fatalf("after success: %+v", d)
			}
		}
		if gaps[0] != 30*time.Second || gaps[1] != 2*time.Minute || gaps[2] != 8*time.Minute {
			t.Fatalf("retry gaps %v, want 30s, 2m, 8m", gaps)
		}
		hits := rc.got()
		if len(hits) != 4 {
			t.Fatalf("receiver saw %d requests, want 4", len(hits))
		}
		for _, h := range hits {
			if h.header.Get("Content-Type") != "application/json" || h.header.Get("User-Agent") != "Touchpoint-Webhooks" ||
				h.header.Get("X-Touchpoint-Event") != webhook.CaseUpdated || h.header.Get("X-Touchpoint-Delivery") == "" || h.header.Get("X-Touchpoint-Timestamp") == "" {
				t.Fatalf("headers: %v", h.header)
			}
			// The receiver's clock is the test clock of the moment it was sent;
			// each attempt is signed afresh.
			if err := webhook.Verify(sub.Secret, h.header.Get("X-Touchpoint-Signature"), h.body, c.now(), 24*time.Hour); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if err := webhook.Verify(other.Secret, h.header.Get("X-Touchpoint-Signature"), h.body, c.now(), 24*time.Hour); !errors.Is(err, webhook.ErrBadSignature) {
				t.Fatalf("another subscription's secret verified: %v", err)
			}
		}
		last := hits[3]
		if err := webhook.Verify(sub.Secret, last.header.Get("X-Touchpoint-Signature"), append(last.body, ' '), c.now(), 0); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("a changed body verified: %v", err)
		}
		if err := webhook.Verify(sub.Secret, last.header.Get("X-Touchpoint-Signature"), last.body, c.now().Add(time.Hour), 0); !errors.Is(err, webhook.ErrStale) {
			t.Fatalf("an old delivery verified: %v", err)
		}
		var ev webhook.Event
		if err := json.Unmarshal(last.body, &ev); err != nil || ev.Type != webhook.CaseUpdated || !strings.HasPrefix(ev.ID, "evt_") || !strings.Contains(string(ev.Data), `"case_id":"42"`) {
			t.Fatalf("body %s (%v)", last.body, err)
		}
		if ds := deliveries(t, s, other.ID); len(ds) != 0 {
			t.Fatalf("a subscription to other events got %d deliveries", len(ds))
		}
	})
}

func TestBackoffSpansAboutADayThenDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newClock()
		s := setup(t, db, c)
		rc := newReceiver(t, 500)
		sub := subscribe(t, s, rc.URL, "*")
		start := c.now()
		emit(t, db, s, webhook.WorkItemCompleted, map[string]any{"item_id": "7"})
		for i := 0; i < webhook.MaxAttempts; i++ {
			if n := dispatch(t, s); n != 1 {
				t.Fatalf("attempt %d claimed %d", i+1, n)
			}
			d := deliveries(t, s, sub.ID)[0]
			if d.NextAttemptAt != nil {
				c.set(*d.NextAttemptAt)
			}
		}
		d := deliveries(t, s, sub.ID)[0]
		if d.State != webhook.Dead || d.Attempts != webhook.MaxAttempts || d.NextAttemptAt != nil {
			t.Fatalf("after %d failures: %+v", webhook.MaxAttempts, d)
		}
		if span := c.now().Sub(start); span < 12*time.Hour || span > 30*time.Hour {
			t.Fatalf("attempts spanned %v, want about a day", span)
		}
		c.add(48 * time.Hour)
		if n := dispatch(t, s); n != 0 || len(rc.got()) != webhook.MaxAttempts {
			t.Fatalf("a dead delivery was sent again")
		}
	})
}

func TestGoneDeactivatesSubscription(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		s := setup(t, db, c)
		rc := newReceiver(t, 410)
		sub := subscribe(t, s, rc.URL, webhook.CaseCreated, webhook.CaseUpdated)
		emit(t, db, s, webhook.CaseCreated, map[string]any{"case_id": "1"})
		emit(t, db, s, webhook.CaseUpdated, map[string]any{"case_id": "1"})
		dispatch(t, s)
		got, err := s.Get(ctx, sub.ID)
		if err != nil || got.Active || !strings.Contains(got.DeactivatedReason, "410") {
			t.Fatalf("after 410: %+v, %v", got, err)
		}
		for _, d := range deliveries(t, s, sub.ID) {
			if d.State != webhook.Dead || d.NextAttemptAt != nil {
				t.Fatalf("delivery after 410: %+v", d)
			}
		}
		if n := len(rc.got()); n < 1 || n > 2 {
			t.Fatalf("receiver saw %d requests", n)
		}
		emit(t, db, s, webhook.CaseUpdated, map[string]any{"case_id": "1"})
		if ds := deliveries(t, s, sub.ID); len(ds) != 2 {
			t.Fatalf("an inactive subscription got a new delivery: %d", len(ds))
		}
		if _, err := s.Ping(ctx, sub.ID); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("ping of an inactive subscription: %v", err)
		}
		// Switching it back on clears the reason.
		got, err = s.Update(ctx, sub.ID, webhook.Spec{Active: ptr(true)})
		if err != nil || !got.Active || got.DeactivatedReason != "" {
			t.Fatalf("reactivate: %+v, %v", got, err)
		}
	})
}

func TestReplaySendsTheSameEventAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		s := setup(t, db, c)
		rc := newReceiver(t, 200)
		sub := subscribe(t, s, rc.URL, webhook.OfferMade)
		emit(t, db, s, webhook.OfferMade, map[string]any{"item_id": "9", "agent_id": "3"})
		dispatch(t, s)
		first := deliveries(t, s, sub.ID)[0]
		if first.State != webhook.Delivered {
			t.Fatalf("first: %+v", first)
		}
		re, err := s.Replay(ctx, sub.ID, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if re.ReplayOf == nil || *re.ReplayOf != first.ID || re.EventID != first.EventID || re.State != webhook.Pending {
			t.Fatalf("replay: %+v", re)
		}
		dispatch(t, s)
		hits := rc.got()
		if len(hits) != 2 || string(hits[0].body) != string(hits[1].body) ||
			hits[1].header.Get("X-Touchpoint-Delivery") != re.ID.String() || hits[0].header.Get("X-Touchpoint-Delivery") != first.ID.String() {
			t.Fatalf("replay not re-sent as the same event: %d hits", len(hits))
		}
		if _, err := s.Replay(ctx, sub.ID, 12345); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("replay of an unknown delivery: %v", err)
		}
		other := subscribe(t, s, rc.URL, "*")
		if _, err := s.Replay(ctx, other.ID, first.ID); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("replay through another subscription: %v", err)
		}
	})
}

func TestSSRFGuard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		strict := webhook.NewService(db, webhook.Options{Now: c.now, Jitter: mid})
		for _, u := range []string{"http://example.com/hook", "https://127.0.0.1/hook", "https://[::1]/x", "https://169.254.169.254/latest",
			"https://10.1.2.3/", "https://localhost:8443/", "ftp://example.com/", "https://user:pw@example.com/", "example.com/hook", ""} {
			_, err := strict.Create(ctx, webhook.Spec{Name: ptr("x"), URL: ptr(u), Events: []string{"*"}})
			var inv *errs.Invalid
			if !errIs(err, &inv) || inv.Field != "url" {
				t.Errorf("url %q: %v, want invalid url", u, err)
			}
		}
		if _, err := strict.Create(ctx, webhook.Spec{Name: ptr("x"), URL: ptr("https://hooks.example.com/in"), Events: []string{"*"}}); err != nil {
			t.Fatalf("a public https URL: %v", err)
		}
		var inv *errs.Invalid
		if _, err := strict.Create(ctx, webhook.Spec{Name: ptr("x"), URL: ptr("https://hooks.example.com/in"), Events: []string{"case.created", "case.exploded"}}); !errIs(err, &inv) || inv.Field != "events[1]" {
			t.Fatalf("unknown event type: %v", err)
		}
		if _, err := strict.Create(ctx, webhook.Spec{Name: ptr("x"), URL: ptr("https://hooks.example.com/in")}); !errIs(err, &inv) || inv.Field != "events" {
			t.Fatalf("no event types: %v", err)
		}

		// A subscription made while private targets were allowed is still
		// refused at delivery time once they are not: the address is checked
		// when dialling, after name resolution.
		rc := newReceiver(t, 200)
		s := setup(t, db, c)
		sub := subscribe(t, s, rc.URL, "*")
		s.SetAllowPrivate(false)
		emit(t, db, s, webhook.CaseUpdated, map[string]any{"case_id": "1"})
		dispatch(t, s)
		var d *webhook.Delivery
		for _, x := range deliveries(t, s, sub.ID) {
			if x.EventType == webhook.CaseUpdated {
				d = x
			}
		}
		if len(rc.got()) != 0 || d == nil || d.State != webhook.Failed || !strings.Contains(d.LastError, "non-public") {
			t.Fatalf("delivery to 127.0.0.1 while not allowed: %d hits, %+v", len(rc.got()), d)
		}
	})
}

// cutOff stands for a node that dies after claiming: its POST never leaves,
// and nothing is recorded.
type cutOff struct{ cancel context.CancelFunc }

func (c cutOff) Post(ctx context.Context, r webhook.Request) webhook.Response {
	c.cancel()
	return webhook.Response{Err: context.Canceled}
}

func TestClaimOfADeadNodeExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newClock()
		ctx, cancel := context.WithCancel(context.Background())
		dying := webhook.NewService(db, webhook.Options{AllowPrivate: true, Now: c.now, Jitter: mid, Post: cutOff{cancel}})
		rc := newReceiver(t, 200)
		sub := subscribe(t, dying, rc.URL, "*")
		emit(t, db, dying, webhook.CaseUpdated, map[string]any{"case_id": "1"})
		if n, _ := dying.DispatchOnce(ctx); n != 1 {
			t.Fatalf("claimed %d", n)
		}
		live := setup(t, db, c)
		if n := dispatch(t, live); n != 0 {
			t.Fatal("another node took a delivery that is still claimed")
		}
		d := deliveries(t, live, sub.ID)[0]
		if d.State != webhook.Pending || d.Attempts != 0 {
			t.Fatalf("after the crash: %+v", d)
		}
		c.add(3 * time.Minute)
		if n := dispatch(t, live); n != 1 {
			t.Fatalf("after the claim expired: claimed %d", n)
		}
		if d := deliveries(t, live, sub.ID)[0]; d.State != webhook.Delivered || len(rc.got()) != 1 {
			t.Fatalf("not delivered after the claim expired: %+v", d)
		}
	})
}

// Several dispatchers at once (on PostgreSQL: several connections, as several
// nodes would have) never send one delivery twice.
func TestConcurrentDispatchersSendEachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := newClock()
		rc := newReceiver(t, 200)
		nodes := []*webhook.Service{setup(t, db, c), setup(t, db, c), setup(t, db, c), setup(t, db, c)}
		sub := subscribe(t, nodes[0], rc.URL, "*")
		const n = 100
		for i := 0; i < n; i++ {
			emit(t, db, nodes[0], webhook.CaseUpdated, map[string]any{"i": i})
		}
		var wg sync.WaitGroup
		for _, s := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if k, err := s.DispatchOnce(context.Background()); err != nil || k == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, h := range rc.got() {
			seen[h.header.Get("X-Touchpoint-Delivery")]++
		}
		if len(seen) != n {
			t.Fatalf("%d distinct deliveries sent, want %d", len(seen), n)
		}
		for k, v := range seen {
			if v != 1 {
				t.Fatalf("delivery %s sent %d times", k, v)
			}
		}
		ds, _, _ := nodes[0].Deliveries(context.Background(), sub.ID, webhook.DeliveryQuery{State: webhook.Delivered, Limit: 200})
		if len(ds) != n {
			t.Fatalf("%d delivered, want %d", len(ds), n)
		}
	})
}

func TestDeliveryLogPagesAndRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		s := setup(t, db, c)
		rc := newReceiver(t, 200)
		sub := subscribe(t, s, rc.URL, "*")
		for i := 0; i < 5; i++ {
			emit(t, db, s, webhook.CaseUpdated, map[string]any{"i": i})
		}
		var all []*webhook.Delivery
		cursor := ""
		for pages := 0; ; pages++ {
			ds, next, err := s.Deliveries(ctx, sub.ID, webhook.DeliveryQuery{Limit: 2, Cursor: cursor})
			if err != nil || pages > 3 {
				t.Fatalf("page %d: %v", pages, err)
			}
			all = append(all, ds...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(all) != 5 || all[0].ID < all[4].ID {
			t.Fatalf("paged log: %d deliveries", len(all))
		}
		if _, _, err := s.Deliveries(ctx, sub.ID, webhook.DeliveryQuery{Cursor: "nope"}); err == nil {
			t.Fatal("a bad cursor was taken")
		}

		// After a rotation both secrets sign for a day, then only the new one.
		rot, err := s.RotateSecret(ctx, sub.ID)
		if err != nil || rot.Secret == sub.Secret || !strings.HasPrefix(rot.Secret, "whsec_") {
			t.Fatalf("rotate: %v", err)
		}
		d, err := s.Ping(ctx, sub.ID)
		if err != nil || d.State != webhook.Delivered || d.EventType != webhook.PingEvent {
			t.Fatalf("ping: %+v, %v", d, err)
		}
		hits := rc.got()
		h := hits[len(hits)-1]
		for _, sec := range []string{sub.Secret, rot.Secret} {
			if err := webhook.Verify(sec, h.header.Get("X-Touchpoint-Signature"), h.body, c.now(), 0); err != nil {
				t.Fatalf("during the grace period: %v", err)
			}
		}
		c.add(25 * time.Hour)
		if _, err := s.Ping(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
		hits = rc.got()
		h = hits[len(hits)-1]
		if err := webhook.Verify(sub.Secret, h.header.Get("X-Touchpoint-Signature"), h.body, c.now(), 0); !errors.Is(err, webhook.ErrBadSignature) {
			t.Fatalf("the old secret still signs after the grace period: %v", err)
		}
	})
}

// Events are emitted inside the caller's transaction: a rolled-back
// transaction leaves no delivery; one event id reaches a subscription once.
func TestEmitIsTransactionalAndOncePerEventID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newClock()
		s := setup(t, db, c)
		sub := subscribe(t, s, "https://hooks.example.com/in", "*")
		boom := errors.New("boom")
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			if err := s.Emit(ctx, tx, webhook.CaseUpdated, map[string]any{"x": 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || len(deliveries(t, s, sub.ID)) != 0 {
			t.Fatalf("rolled back: %v, %d deliveries", err, len(deliveries(t, s, sub.ID)))
		}
		for i := 0; i < 2; i++ {
			err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				return s.EmitEvents(ctx, tx, webhook.Event{ID: "case.created:5", Type: webhook.CaseCreated, Data: json.RawMessage(`{"case_id":"5"}`)})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if ds := deliveries(t, s, sub.ID); len(ds) != 1 {
			t.Fatalf("one event id gave %d deliveries", len(ds))
		}
	})
}

// Follow turns this node's case events into deliveries.
func TestFollowWritesThisNodesLiveEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c := newClock()
		s := setup(t, db, c)
		sub := subscribe(t, s, "https://hooks.example.com/in", "*")
		b := bus.NewLocal()
		defer b.Close()
		done := make(chan struct{})
		go func() { s.Follow(ctx, b); close(done) }()
		publish := func(typ string, topics []string, data string) {
			if err := b.Publish(ctx, bus.Event{Type: typ, Topics: topics, Data: json.RawMessage(data)}); err != nil {
				t.Fatal(err)
			}
		}
		// Follow subscribes on its own goroutine; wait until it listens.
		deadline := time.Now().Add(5 * time.Second)
		for len(deliveries(t, s, sub.ID)) == 0 {
			publish("case.note", []string{"inbox", "case:6"}, `{"case_id":"6"}`)
			if time.Now().After(deadline) {
				t.Fatal("Follow wrote nothing")
			}
			time.Sleep(20 * time.Millisecond)
		}
		base := len(deliveries(t, s, sub.ID))
		publish("case.created", []string{"inbox", "case:7"}, `{"case_id":"7","customer_id":"3"}`)
		publish("case.created", []string{"inbox", "case:7"}, `{"case_id":"7","customer_id":"3"}`)
		publish("case.updated", []string{"inbox", "case:7"}, `{"case_id":"7","status":"open"}`)
		publish("interaction.created", []string{"inbox"}, `{"interaction_id":"1"}`) // comes through Linker instead
		publish("case.viewing", []string{"case:7"}, `{}`)
		publish("routing.offer_made", []string{"routing"}, `{"item_id":"1","agent_id":"2"}`) // comes through RoutingEvents
		for time.Now().Before(deadline) && len(deliveries(t, s, sub.ID)) < base+2 {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		types := map[string]int{}
		for _, d := range deliveries(t, s, sub.ID) {
			types[d.EventType]++
		}
		if types[webhook.CaseCreated] != 1 || types[webhook.CaseUpdated] != 1 || types[webhook.InteractionCreated] != 0 || types[webhook.OfferMade] != 0 || types[webhook.CaseNoteAdded] < 1 {
			t.Fatalf("deliveries by type: %v", types)
		}
		cancel()
		<-done
	})
}
