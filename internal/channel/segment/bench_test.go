package segment

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

func BenchmarkDecodeBatch100(b *testing.B) {
	body := BrowserBatch(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, err := DecodeBatch(body)
		if err != nil || len(msgs) != 100 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatch100Node(b *testing.B) {
	body := NodeBatch(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, err := DecodeBatch(body)
		if err != nil || len(msgs) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeAndMapBatch100 is the whole translation of a batch: decoding
// and making the interaction inputs.
func BenchmarkDecodeAndMapBatch100(b *testing.B) {
	body := BrowserBatch(100)
	cp := &contactpoint.ContactPoint{ID: 42}
	now := time.Date(2024, 5, 1, 12, 35, 0, 0, time.UTC)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		msgs, err := DecodeBatch(body)
		if err != nil {
			b.Fatal(err)
		}
		if in := ToInputs(cp, msgs, now); len(in) != 100 {
			b.Fatal(len(in))
		}
	}
}

// BenchmarkHandlerBatch100 is a whole request of 100 browser events, with a
// recorder that stores nothing.
func BenchmarkHandlerBatch100(b *testing.B) {
	body := BrowserBatch(100)
	h := &Handler{Points: fakePoints{"wk_browser": testCP}, Recorder: nopRecorder{}}
	mux := http.NewServeMux()
	h.Register(mux)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/batch", bytes.NewReader(body))
		req.SetBasicAuth("wk_browser", "")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

type nopRecorder struct{}

func (nopRecorder) Record(_ context.Context, in []interaction.Input) ([]interaction.Result, error) {
	return make([]interaction.Result, len(in)), nil
}
