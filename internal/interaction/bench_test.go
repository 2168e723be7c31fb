package interaction_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// BenchmarkRecordBatch100 records batches of 100 page views from 4
// goroutines, like the event API under load: 80% of events come from known
// visitors, 20% from new ones. Reported as events/s.
func BenchmarkRecordBatch100(b *testing.B) {
	db := storetest.SQLite(b)
	f := setup(&testing.T{}, db)
	ctx := context.Background()
	var mu sync.Mutex
	seq := 0
	next := func() []interaction.Input {
		mu.Lock()
		defer mu.Unlock()
		ins := make([]interaction.Input, 100)
		for i := range ins {
			seq++
			visitor := seq % 20000
			if seq%5 == 0 {
				visitor = 100000 + seq
			}
			ins[i] = interaction.Input{
				Identifiers:    []customer.RawIdentifier{{Kind: "anonymous_id", Value: fmt.Sprintf("anon-%d", visitor)}},
				ContactPointID: f.web, Kind: "page_view", Direction: "passive", Source: "bench", ExternalID: fmt.Sprint(seq),
				Properties: []byte(`{"url":"https://shop.example/product/4711","title":"Washing machine WM-7","referrer":"https://search.example/?q=washing+machine","path":"/product/4711"}`),
			}
		}
		return ins
	}
	b.ResetTimer()
	b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.interactions.Record(ctx, next()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "events/s")
}
