package meta

import (
	"errors"
	"os"
	"path/filepath"
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

// Whatever the body, parsing ends in a result, ErrUnsupportedObject or an
// *errs.Invalid, and a result keeps the promises of the structs.
func FuzzParseWebhook(f *testing.F) {
	seedFiles(f, "messenger_*.json")
	seedFiles(f, "instagram_*.json")
	seedFiles(f, "whatsapp_*.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := ParseWebhook(body)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) && !errors.Is(err, ErrUnsupportedObject) {
				t.Fatalf("unexpected error type: %v", err)
			}
			return
		}
		for _, m := range w.Messages {
			if m.ExternalID == "" || m.From == "" || m.To == "" || m.At.IsZero() || m.Channel == "" {
				t.Fatalf("incomplete message %+v", m)
			}
		}
		for _, s := range w.Statuses {
			if s.ExternalID == "" || s.Status == "" || s.At.IsZero() || s.PhoneNumberID == "" {
				t.Fatalf("incomplete status %+v", s)
			}
		}
	})
}

func FuzzParseError(f *testing.F) {
	seedFiles(f, "graph_error_*.json")
	f.Add([]byte(`{"error":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e := ParseError("send message", 400, body)
		if e.HTTPStatus != 400 || e.Message == "" || e.Error() == "" {
			t.Fatalf("bad error %+v", e)
		}
		e.Retryable()
	})
}

// The signature check must not panic and must not accept another body.
func FuzzValidateSignature(f *testing.F) {
	f.Add([]byte(`{"object":"page"}`), "sha256=00")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		ValidateSignature(appSecret, body, sig)
		good := header(appSecret, body)
		if !ValidateSignature(appSecret, body, good) {
			t.Fatal("refused its own signature")
		}
		if ValidateSignature(appSecret, append(body, 'x'), good) {
			t.Fatal("accepted a changed body")
		}
	})
}
