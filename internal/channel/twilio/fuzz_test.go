package twilio

import (
	"errors"
	"net/url"
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

// Whatever the body, parsing ends in a result or an *errs.Invalid, and a
// result keeps the promises of the struct.
func FuzzParseInbound(f *testing.F) {
	seedFiles(f, "inbound_*.txt")
	f.Add([]byte("MessageSid=SM1&AccountSid=AC1&From=whatsapp:%2B1&To=whatsapp:%2B2&NumMedia=1&MediaUrl0=https://x/y"))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			return
		}
		in, err := ParseInbound(form)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if in.MessageSid == "" || in.AccountSid == "" || in.From == "" || in.To == "" {
			t.Fatalf("required field empty: %+v", in)
		}
		if in.Channel != ChannelSMS && in.Channel != ChannelWhatsApp {
			t.Fatalf("channel %q", in.Channel)
		}
		if strings.HasPrefix(in.From, whatsappPrefix) || len(in.Media) > MaxMedia {
			t.Fatalf("bad result %+v", in)
		}
	})
}

func FuzzParseStatusCallback(f *testing.F) {
	seedFiles(f, "status_*.txt")
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := ParseForm(body)
		if err != nil {
			return
		}
		sc, err := ParseStatusCallback(form)
		if err != nil {
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		if sc.MessageSid == "" || !sc.Status.Valid() || sc.ErrorCode < 0 {
			t.Fatalf("bad result %+v", sc)
		}
	})
}

func FuzzParseError(f *testing.F) {
	seedFiles(f, "error_*.json")
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, st := range []int{400, 429, 503} {
			e := ParseError("send message", st, body)
			if e.HTTPStatus != st || e.Message == "" || e.Error() == "" {
				t.Fatalf("bad error %+v", e)
			}
			if (st != 400) != e.Retryable() && e.Code != CodeTooManyRequests {
				t.Fatalf("status %d retryable=%v", st, e.Retryable())
			}
		}
	})
}

// The signature check must not panic on any URL or form, and must not accept
// what it did not sign.
func FuzzValidateSignature(f *testing.F) {
	f.Add(exampleURL, "Digits=1234", exampleSig)
	f.Add("https://[::1", "a=b&a=c", "")
	f.Fuzz(func(t *testing.T, u, body, sig string) {
		form, _ := url.ParseQuery(body)
		if ValidateSignature(exampleToken, u, form, sig) && sig != Signature(exampleToken, u, form) {
			// Only a port variant of u may have matched.
			ok := false
			for _, v := range urlVariants(u) {
				ok = ok || Signature(exampleToken, v, form) == sig
			}
			if !ok {
				t.Fatalf("accepted %q for %q", sig, u)
			}
		}
		ValidateBodySignature(exampleToken, u, []byte(body), sig)
	})
}
