package customer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestStoredSet(t *testing.T) {
	f := newStoredSet(0)
	in := identifier.Identifier{Kind: identifier.Email, Value: "ann@example.com"}
	f.add(in)
	if f.absent(in) {
		t.Fatal("absent before the filter is filled: it must answer maybe")
	}
	f.ready.Store(true)
	if f.absent(in) {
		t.Fatal("an identifier added is said to be absent")
	}
	// The other way round it may err, rarely: at 1,000 of the 262,144
	// identifiers it is sized for, nearly every other one is absent.
	for i := range 1000 {
		f.add(identifier.Identifier{Kind: identifier.AnonymousID, Value: fmt.Sprint("stored-", i)})
	}
	maybe := 0
	for i := range 10000 {
		if !f.absent(identifier.Identifier{Kind: identifier.AnonymousID, Value: fmt.Sprint("new-", i)}) {
			maybe++
		}
	}
	if maybe > 100 {
		t.Fatalf("%d of 10,000 identifiers never added may be stored, want about none", maybe)
	}
}

// With the filter of stored identifiers on (SQLite, journaled ingest),
// promises still find the holders of identifiers stored before the filter
// was built and of those linked since, by any path.
func TestPromisesFindStoredIdentifiers(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := NewService(db, "US")
	link := func(value string) Resolution {
		t.Helper()
		var res Resolution
		err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			var err error
			res, err = s.Resolve(ctx, tx, Evidence{Identifiers: []identifier.Identifier{{Kind: identifier.Email, Value: value}}, Source: "test"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	before := link("before@example.com")
	p := s.NewPromises()
	deadline := time.Now().Add(10 * time.Second)
	for (s.stored.Load() == nil || !s.stored.Load().ready.Load()) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f := s.stored.Load(); f == nil || !f.ready.Load() {
		t.Fatal("no filter of stored identifiers on SQLite, filled within 10 s")
	}
	after := link("after@example.com")
	_, got, err := p.Promise(ctx, [][]identifier.Identifier{
		{{Kind: identifier.Email, Value: "before@example.com"}},
		{{Kind: identifier.Email, Value: "after@example.com"}},
		{{Kind: identifier.Email, Value: "new@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != before.CustomerID || got[1] != after.CustomerID {
		t.Fatalf("promised %v, want %s and %s for the stored identifiers", got[:2], before.CustomerID, after.CustomerID)
	}
	if got[2] == 0 || got[2] == before.CustomerID || got[2] == after.CustomerID {
		t.Fatalf("promised %s for a new identifier, want a new customer", got[2])
	}
}

// A record stored as promised leaves its identifiers known to be held by
// the customers promised, so that the visitors' next events need not ask
// the store; a record released otherwise (stored elsewhere) does not.
func TestPromisesKeepWhatWasStoredAsPromised(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	s := NewService(db, "US")
	p := s.NewPromises()
	visitor := []identifier.Identifier{{Kind: identifier.AnonymousID, Value: "v-1"}}
	other := []identifier.Identifier{{Kind: identifier.AnonymousID, Value: "v-2"}}
	token, got, err := p.Promise(ctx, [][]identifier.Identifier{visitor, other})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		for i, idents := range [][]identifier.Identifier{visitor, other} {
			if _, err := s.Resolve(ctx, tx, Evidence{Identifiers: idents, Source: "test", Promised: got[i]}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p.Stored(token)
	if c, ok := p.held[p.key(visitor[0])]; !ok || c != got[0] {
		t.Fatalf("after storing, the visitor is held by %s (%v), want %s", c, ok, got[0])
	}
	if len(p.pending) != 0 || len(p.kinds) != 0 || len(p.byToken) != 0 || len(p.fresh) != 0 {
		t.Fatalf("promises left open after storing: %d pending, %d kinds, %d tokens, %d fresh", len(p.pending), len(p.kinds), len(p.byToken), len(p.fresh))
	}
	_, again, err := p.Promise(ctx, [][]identifier.Identifier{visitor})
	if err != nil || again[0] != got[0] {
		t.Fatalf("promised %v (%v) for the stored visitor, want %s", again, err, got[0])
	}

	token, _, err = p.Promise(ctx, [][]identifier.Identifier{{{Kind: identifier.AnonymousID, Value: "v-3"}}})
	if err != nil {
		t.Fatal(err)
	}
	p.Release(token)
	if _, ok := p.held[p.key(identifier.Identifier{Kind: identifier.AnonymousID, Value: "v-3"})]; ok {
		t.Fatal("a released promise was kept as held")
	}
}
