package email

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, break its limits or
// return HTML that did not go through the sanitizer, and that whatever it
// parses can be classified and threaded.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	lim := Limits{MaxSize: 1 << 20, MaxParts: 50, MaxDepth: 6, MaxPartSize: 256 << 10, MaxTotalSize: 512 << 10}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, lim)
		if err != nil {
			if m != nil {
				t.Fatal("message and error")
			}
			return
		}
		var total int64
		for _, a := range m.Attachments {
			if a.Size != int64(len(a.Data)) || a.Size > lim.MaxPartSize {
				t.Fatalf("attachment size %d, data %d", a.Size, len(a.Data))
			}
			total += a.Size
		}
		if total > lim.MaxTotalSize {
			t.Fatalf("attachments total %d", total)
		}
		for ph, i := range m.CIDs {
			if i < 0 || i >= len(m.Attachments) || !m.Attachments[i].Inline || ph == "" {
				t.Fatalf("CIDs %v", m.CIDs)
			}
		}
		_ = Classify(m)
		_ = m.ThreadIDs()
		_, _ = CaseToken(m.Subject)
	})
}

func BenchmarkParse(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	var msgs [][]byte
	var size int64
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		size += int64(len(raw))
	}
	b.SetBytes(size / int64(len(msgs)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := Parse(msgs[n%len(msgs)], Limits{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}
