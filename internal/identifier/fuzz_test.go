package identifier

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzRegions are the default regions the fuzzers pick from by index; a
// string argument would mostly produce regions that do not exist.
var fuzzRegions = []string{"US", "GB", "DE", "IN", "IT", "FR", "BR", "RU", "JP", "AU", "", "XX"}

func fuzzNormalizer(r uint8) Normalizer {
	return Normalizer{DefaultRegion: fuzzRegions[int(r)%len(fuzzRegions)]}
}

var fuzzSeeds = []struct{ kind, value string }{
	{"user_id", "u-42"},
	{"userId", "  AbC "},
	{"user", "null"},
	{"account", "ab-123 456"},
	{"account", "0-0-0"},
	{"account", "ɐb-12"},
	{"email", "Ann.Smith@Example.COM"},
	{"email", "mailto:ann@example.com"},
	{"email", "foo@"},
	{"email", "noemail@example.com"},
	{"email", "a!#$%&'*+/=?^_`{|}~.-z@example.com"},
	{"email", "user@xn--80ak6aa92e.xn--p1ai"},
	{"mail", "ann..b@example.com"},
	{"phone", "(212) 555-0100"},
	{"phone", "+1 212 555 0100 ext. 12"},
	{"phone", "tel:+1-212-555-0100;ext=7"},
	{"phone", "00 49 30 1234567"},
	{"phone", "011 49 30 1234567"},
	{"phone", "+44 (0)20 7946 0958"},
	{"phone", "+7 8 800 555 35 35"},
	{"phone", "+39 06 1234 5678"},
	{"phone", "+91 98765 43210"},
	{"phone", "098765 43210"},
	{"phone", "+1 555-0100"},
	{"phone", "1-800-FLOWERS"},
	{"phone", "+800 1234 5678"},
	{"phone", "+882 1234 5678"},
	{"tel", "(111) 111-1111"},
	{"loyalty_card", "6035 1234 5678 9012"},
	{"card", "12-3"},
	{"social", "twitter:@Ann"},
	{"social", "matrix:@ann:example.org"},
	{"social", "x:@ @ann"},
	{"social", "Mastodon:@Ann@mastodon.social"},
	{"social", "telegram:0"},
	{"device_id", "6F9619FF-8B86-D011-B42D-00C04FC964FF"},
	{"anonymous_id", "00000000-0000-0000-0000-000000000000"},
	{"anonymousId", "507f191e810c19729de860ea"},
	{"shopify_customer_id", "gid://shopify/Customer/7"},
	{"Foo Bar", "x"},
	{"", ""},
	{"user_id", "ab\u200bcd"},
	{"user_id", "\xff"},
	{"user_id", "xXx"},
	{"account", "ǅ-1"},
	{"social", "instagram:İstanbul"},
}

// checkOutput asserts the properties of every successful normalization and
// that normalizing the output again gives the output.
func checkOutput(t *testing.T, n Normalizer, got Identifier) {
	t.Helper()
	v := got.Value
	if v == "" || len(v) > MaxValueLen || !utf8.ValidString(v) || strings.TrimSpace(v) != v {
		t.Fatalf("bad output value %q", v)
	}
	if k, err := ParseKind(string(got.Kind)); err != nil || k != got.Kind {
		t.Fatalf("output kind %q is not canonical (%q, %v)", got.Kind, k, err)
	}
	again, err := n.Normalize(string(got.Kind), v)
	if err != nil {
		t.Fatalf("normalizing output %#v again: %v", got, err)
	}
	if again != got {
		t.Fatalf("not idempotent: %#v then %#v", got, again)
	}
	back, err := n.Parse(got.String())
	if err != nil || back != got {
		t.Fatalf("Parse(%q) = %#v, %v; want %#v", got.String(), back, err, got)
	}
}

// checkError asserts that err is an *Error with a reason.
func checkError(t *testing.T, got Identifier, err error) {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("error %v is %T, not *Error", err, err)
	}
	if e.Reason == "" || e.Error() == "" {
		t.Fatalf("error without reason: %#v", e)
	}
	if got != (Identifier{}) {
		t.Fatalf("non-zero identifier %#v with error %v", got, err)
	}
}

func FuzzNormalize(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s.kind, s.value, uint8(i))
	}
	f.Fuzz(func(t *testing.T, kind, value string, region uint8) {
		n := fuzzNormalizer(region)
		got, err := n.Normalize(kind, value)
		if err != nil {
			checkError(t, got, err)
			return
		}
		checkOutput(t, n, got)
		// Normalize and Parse agree whenever the kind can be written before a colon.
		if !strings.Contains(kind, ":") {
			viaParse, err := n.Parse(kind + ":" + value)
			if err != nil || viaParse != got {
				t.Fatalf("Parse(%q) = %#v, %v; Normalize gave %#v", kind+":"+value, viaParse, err, got)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s.kind+":"+s.value, uint8(i))
	}
	f.Add("social:twitter:Ann", uint8(0))
	f.Add("no colon", uint8(0))
	f.Add(":", uint8(0))
	f.Add("phone:tel:+1-212-555-0100", uint8(0))
	f.Fuzz(func(t *testing.T, s string, region uint8) {
		n := fuzzNormalizer(region)
		got, err := n.Parse(s)
		if err != nil {
			checkError(t, got, err)
			return
		}
		checkOutput(t, n, got)
	})
}
