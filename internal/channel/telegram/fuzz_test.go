package telegram

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

func seedFiles(f *testing.F, pattern string) {
	f.Helper()
	names, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Whatever the body, parsing ends in an update or an *errs.Invalid, and an
// update keeps the promises of the structs.
func FuzzParseUpdate(f *testing.F) {
	for _, p := range []string{"message_*.json", "edited_*.json", "channel_*.json", "callback_*.json"} {
		seedFiles(f, p)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := ParseUpdate(body)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		m := u.Message
		if m == nil {
			return
		}
		if m.ChatID == 0 || m.From == "" || m.At.IsZero() || !strings.Contains(m.ExternalID, ":") || m.Kind != u.Kind {
			t.Fatalf("incomplete message %+v", m)
		}
	})
}

func FuzzParseError(f *testing.F) {
	seedFiles(f, "error_*.json")
	f.Add([]byte(`{"ok":false,"parameters":{"retry_after":-5}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e := ParseError("sendMessage", 400, body)
		if e.Description == "" || e.Error() == "" || e.RetryAfter < 0 {
			t.Fatalf("bad error %+v", e)
		}
		e.Retryable()
	})
}
