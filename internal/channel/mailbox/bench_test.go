package mailbox_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// BenchmarkIngest stores the .eml fixtures through Ingest on SQLite, each
// with a fresh Message-ID so that every one is a new interaction.
// Reported as msgs/s.
func BenchmarkIngest(b *testing.B) {
	db := storetest.SQLite(b)
	s := newServices(db)
	ctx := context.Background()
	cpID := createEmailPoint(b, s)
	var fixtures [][]byte
	for _, f := range []string{"gmail.eml", "outlook.eml", "apple.eml", "latin1.eml", "forward-inline.eml", "autoreply.eml"} {
		fixtures = append(fixtures, fixture(b, f))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		raw := fixtures[i%len(fixtures)]
		// A new Message-ID (and sender) for each: no duplicates.
		hdr := fmt.Sprintf("Message-ID: <bench-%d@bench.example>\r\n", i)
		raw = append([]byte(hdr), bytes.Replace(raw, []byte("Message-ID:"), []byte("X-Old-Message-ID:"), 1)...)
		raw = bytes.Replace(raw, []byte("Message-Id:"), []byte("X-Old-Message-Id:"), 1)
		if _, err := s.Mail.Ingest(ctx, cpID, raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
