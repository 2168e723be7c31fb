package interaction

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A journal record whose promised customer id is held by another customer
// (say, the record was stored once by another route) is stored on a new
// customer, and the holder of the id is left alone.
func TestJournaledPromiseTaken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, web := webShop(t, db)
		held, err := s.Record(ctx, []Input{{Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "ann@example.com"}},
			ContactPointID: web, Kind: "call", Source: "pbx", ExternalID: "c-1"}})
		if err != nil {
			t.Fatal(err)
		}
		r, cur, err := s.openJournal(ctx, t.TempDir(), JournalOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e := &entry{at: time.Now().UTC().Truncate(time.Microsecond), token: 1, promised: []id.ID{held[0].CustomerID},
			inputs: []Input{{Identifiers: []customer.RawIdentifier{{Kind: "anonymous_id", Value: "a-9"}}, ContactPointID: web,
				Kind: "page_view", Direction: Passive, Source: "segment:t", ExternalID: "m-1", OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}}}
		if _, err := r.j.Append(ctx, appendEntry(nil, e)); err != nil {
			t.Fatal(err)
		}
		r.start(cur)
		defer r.Close()
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := r.WaitStored(waitCtx); err != nil {
			t.Fatal(err)
		}
		var owner id.ID
		if err := db.QueryRow(ctx, "SELECT customer_id FROM identifiers WHERE kind = 'anonymous_id' AND value = 'a-9'").Scan(&owner); err != nil {
			t.Fatal(err)
		}
		if owner == held[0].CustomerID || owner == 0 {
			t.Fatalf("the visitor was linked to %s, the holder of the promised id", owner)
		}
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM identifiers WHERE customer_id = ?", held[0].CustomerID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("the holder of the promised id has %d identifiers (%v), want its own one", n, err)
		}
		if st := r.Stats(); st.Stored != 1 || st.Rerouted != 1 {
			t.Fatalf("stats %+v, want the event stored, on another customer than promised", st)
		}
	})
}

// While requests keep being journaled the applier gives way to them, until
// they stop or the backlog reaches half its bound; and giving way never
// keeps it from storing: records journaled all along are stored.
func TestJournaledGivesWayToRequests(t *testing.T) {
	ctx := context.Background()
	s, web := webShop(t, storetest.SQLite(t))
	r, cur, err := s.openJournal(ctx, t.TempDir(), JournalOptions{MaxBacklog: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r.busy() {
		t.Fatal("busy before any request")
	}
	event := func(n int) []Input {
		return []Input{{Identifiers: []customer.RawIdentifier{{Kind: "anonymous_id", Value: "a-1"}}, ContactPointID: web,
			Kind: "page_view", Direction: Passive, Source: "segment:t", ExternalID: "m-" + strconv.Itoa(n)}}
	}
	if _, err := r.Record(ctx, event(0)); err != nil {
		t.Fatal(err)
	}
	if !r.busy() {
		t.Fatal("not busy right after a request, with 1 record waiting of 8")
	}
	r.lastAppend.Store(time.Now().Add(-2 * quietAfter).UnixNano())
	if r.busy() {
		t.Fatal("still busy after requests stopped")
	}
	for n := 1; n < 4; n++ {
		if _, err := r.Record(ctx, event(n)); err != nil {
			t.Fatal(err)
		}
	}
	if r.busy() {
		t.Fatalf("busy with %d records waiting, half the bound of 8", r.Backlog())
	}

	// Requests every few milliseconds, each taking the backlog back under
	// half the bound once stored: everything is stored while they come.
	r.start(cur)
	defer r.Close()
	for n := 4; n < 60; n++ {
		if _, err := r.Record(ctx, event(n)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.WaitStored(waitCtx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Stored != 60 {
		t.Fatalf("%d events stored, want 60", st.Stored)
	}
}

// The applier rests only while events arrive faster than it stores them: a
// load that storing keeps up with is stored as it comes.
func TestJournaledRestsOnlyWhenFallingBehind(t *testing.T) {
	const took = 100 * time.Millisecond
	for _, c := range []struct {
		name    string
		stored  int
		arrived int64
		elapsed time.Duration
		rests   bool
	}{
		{"a burst: 80,000 a second against 20,000 stored", 2000, 8000, took, true},
		{"a steady load storing keeps up with", 2000, 1000, took, false},
		{"as fast as stored", 2000, 2000, took, false},
		{"arrivals over a longer cycle, slower than storing", 2000, 4000, 4 * took, false},
		{"arrivals over a longer cycle, faster than storing", 2000, 12000, 4 * took, true},
		{"nothing stored", 0, 500, took, false},
	} {
		rest := restAfter(took, c.stored, c.arrived, c.elapsed)
		if rests := rest > 0; rests != c.rests {
			t.Errorf("%s: rest %v, want resting %v", c.name, rest, c.rests)
		}
		if c.rests && rest != restPerStore*took {
			t.Errorf("%s: rest %v, want %v", c.name, rest, restPerStore*took)
		}
	}
}
