package interaction

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// journalBench is a journaled recorder on a fresh SQLite store whose
// applier has not started, and a source of event-API-shaped batches: 100
// page views, 80% from 20,000 returning visitors, 20% from new ones, a
// fifth of those signed in.
type journalBench struct {
	r   *Journaled
	web id.ID
	mu  sync.Mutex
	seq int
}

// webShop is an interaction service on db and a website contact point.
func webShop(t testing.TB, db *store.DB) (*Service, id.ID) {
	t.Helper()
	s := NewService(db, customer.NewService(db, "US"))
	kind, name := contactpoint.Kind("website"), "Web shop"
	cp, err := contactpoint.NewService(db).Create(context.Background(), contactpoint.Spec{Kind: &kind, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return s, cp.ID
}

func newJournalBench(b *testing.B) (*journalBench, func()) {
	s, web := webShop(b, storetest.SQLite(b))
	r, cur, err := s.openJournal(context.Background(), b.TempDir(), JournalOptions{MaxBacklog: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	jb := &journalBench{r: r, web: web}
	return jb, func() { r.start(cur) }
}

func (jb *journalBench) batch() []Input {
	jb.mu.Lock()
	defer jb.mu.Unlock()
	ins := make([]Input, 100)
	for i := range ins {
		jb.seq++
		visitor := fmt.Sprintf("anon-%d", jb.seq%20000)
		idents := []customer.RawIdentifier{{Kind: "anonymous_id", Value: visitor}}
		if jb.seq%5 == 0 {
			visitor = fmt.Sprintf("new-%d", jb.seq)
			idents = []customer.RawIdentifier{{Kind: "anonymous_id", Value: visitor}}
			if jb.seq%25 == 0 {
				idents = append(idents, customer.RawIdentifier{Kind: "user_id", Value: "user-" + visitor})
			}
		}
		ins[i] = Input{
			Identifiers: idents, ContactPointID: jb.web, Kind: "page_view", Direction: "passive", Source: "bench",
			ExternalID: fmt.Sprint(jb.seq), Subject: "Washing machine WM-7", Content: "https://shop.example/product/4711",
			Properties: []byte(`{"url":"https://shop.example/product/4711","title":"Washing machine WM-7","referrer":"https://search.example/?q=washing+machine","path":"/product/4711"}`),
		}
	}
	return ins
}

// BenchmarkJournaledAccept is the request side of the journaled ingest:
// validate, resolve in memory, journal and sync, from 4 goroutines, with
// the applier not running. Reported as events/s.
func BenchmarkJournaledAccept(b *testing.B) {
	jb, _ := newJournalBench(b)
	defer jb.r.j.Close()
	ctx := context.Background()
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := jb.r.Record(ctx, jb.batch()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkJournaledStore is the store side: b.N batches are journaled
// first (not timed), then the applier stores them all. Reported as
// events/s.
func BenchmarkJournaledStore(b *testing.B) {
	jb, start := newJournalBench(b)
	ctx := context.Background()
	b.StopTimer()
	for range b.N {
		if _, err := jb.r.Record(ctx, jb.batch()); err != nil {
			b.Fatal(err)
		}
	}
	b.StartTimer()
	start()
	if err := jb.r.WaitStored(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st := jb.r.Stats(); st.Stored != int64(b.N*100) {
		b.Fatalf("%d events stored, want %d", st.Stored, b.N*100)
	}
	jb.r.Close()
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
