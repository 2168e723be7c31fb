package identifier

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Normalizer normalizes identifier values. DefaultRegion (ISO 3166 alpha-2,
// like "US" or "DE") is the region of phone numbers given without a country
// code; when empty, "US" is used. The zero value is ready to use.
type Normalizer struct {
	DefaultRegion string
}

// defaultRegion is the phone region used when Normalizer.DefaultRegion is empty.
const defaultRegion = "US"

func (n Normalizer) region() string {
	r := strings.ToUpper(strings.TrimSpace(n.DefaultRegion))
	if r == "" {
		return defaultRegion
	}
	return r
}

// Normalize returns the normalized identifier for a raw kind name and value,
// or an error of type *Error.
func (n Normalizer) Normalize(kind, value string) (Identifier, error) {
	k, err := ParseKind(kind)
	if err != nil {
		e := err.(*Error)
		e.Value = strings.TrimSpace(value)
		return Identifier{}, e
	}
	v, err := n.normalizeValue(k, value)
	if err != nil {
		return Identifier{}, err
	}
	return Identifier{Kind: k, Value: v}, nil
}

// Parse reads "kind:value", split at the first colon (so "social:twitter:ann"
// is kind "social" and value "twitter:ann"), and normalizes it.
func (n Normalizer) Parse(s string) (Identifier, error) {
	kind, value, ok := strings.Cut(s, ":")
	if !ok {
		return Identifier{}, &Error{Value: strings.TrimSpace(s), Reason: `want "kind:value"`}
	}
	return n.Normalize(kind, value)
}

// normalizeValue does the checks common to every kind around the kind's own rules.
func (n Normalizer) normalizeValue(k Kind, raw string) (string, error) {
	v := strings.TrimSpace(raw)
	fail := func(reason string) (string, error) {
		return "", &Error{Kind: string(k), Value: v, Reason: reason}
	}
	if v == "" {
		return "", &Error{Kind: string(k), Value: v, Reason: "empty value", Blocked: true}
	}
	if len(v) > MaxValueLen {
		return fail(fmt.Sprintf("too long (%d bytes, at most %d)", len(v), MaxValueLen))
	}
	if !utf8.ValidString(v) {
		return fail("not valid UTF-8")
	}
	if r, bad := badRune(v); bad {
		return fail(fmt.Sprintf("contains control or invisible character %U", r))
	}
	if isJunk(v) {
		return "", &Error{Kind: string(k), Value: v, Reason: "junk value", Blocked: true}
	}

	var out string
	var err error
	switch k {
	case Email:
		out, err = normalizeEmail(v)
	case Phone:
		out, err = normalizePhone(v, n.region())
	case Social:
		out, err = normalizeSocial(v)
	case Account:
		out, err = normalizeAccount(v)
	case LoyaltyCard:
		out, err = normalizeLoyaltyCard(v)
	default: // user_id, device_id, anonymous_id and custom kinds are case-sensitive ids
		out = v
	}
	if err != nil {
		e := err.(*Error)
		e.Kind, e.Value = string(k), v
		return "", e
	}

	// Normalizing may have changed the value (upper-casing, taking out
	// separators): check it again, so that the output passes as input too.
	switch {
	case out == "":
		return fail("empty after normalization")
	case len(out) > MaxValueLen:
		return fail(fmt.Sprintf("too long after normalization (%d bytes, at most %d)", len(out), MaxValueLen))
	case isJunk(out):
		return "", &Error{Kind: string(k), Value: v, Reason: "junk value", Blocked: true}
	}
	return out, nil
}

// reasonf builds the error a kind's normalizer returns; normalizeValue fills in
// the kind and the value.
func reasonf(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// blocked builds a junk-value error from a kind's normalizer.
func blocked(reason string) error {
	return &Error{Reason: reason, Blocked: true}
}

// badRune returns the first control character (Cc: C0, DEL, C1) or invisible
// formatting character (Cf: zero-width space, byte order mark, direction marks,
// ...) of s. Such characters make two identical-looking values differ.
func badRune(s string) (rune, bool) {
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return r, true
		}
	}
	return 0, false
}

// junkValues are the placeholder values that tracking code and forms send
// when they have nothing, compared lower-cased.
var junkValues = map[string]bool{
	"null":            true,
	"nil":             true,
	"none":            true,
	"undefined":       true,
	"anonymous":       true,
	"unknown":         true,
	"n/a":             true,
	"na":              true,
	"-":               true,
	"0":               true,
	"-1":              true,
	"test":            true,
	"guest":           true,
	"[object object]": true,
	"nan":             true,
	"false":           true,
	"true":            true,
}

// isJunk reports whether the trimmed value v is a known placeholder: empty, one
// of junkValues (any case), only zeros with optional dashes and spaces (a nil
// UUID, "000-000"), or one character repeated at least three times ("xxxxx").
func isJunk(v string) bool {
	if v == "" {
		return true
	}
	if junkValues[strings.ToLower(v)] {
		return true
	}
	return zerosOnly(v) || oneRepeatedRune(v)
}

func zerosOnly(v string) bool {
	zero := false
	for _, r := range v {
		switch {
		case r == '0':
			zero = true
		case r == '-' || unicode.IsSpace(r):
		default:
			return false
		}
	}
	return zero
}

func oneRepeatedRune(v string) bool {
	first, size := utf8.DecodeRuneInString(v)
	first = unicode.ToLower(first)
	count := 1
	for _, r := range v[size:] {
		if unicode.ToLower(r) != first {
			return false
		}
		count++
	}
	return count >= 3
}

// normalizeAccount takes spaces and dashes out of an account or contract
// number and upper-cases it: "ab-123 456" becomes "AB123456".
func normalizeAccount(v string) (string, error) {
	out := strings.ToUpper(stripSeparators(v))
	if out == "" {
		return "", reasonf("no characters besides spaces and dashes")
	}
	return out, nil
}

// Loyalty card numbers are 4 to 32 letters and digits, once spaces and dashes
// are taken out.
const (
	minCardLen = 4
	maxCardLen = 32
)

func normalizeLoyaltyCard(v string) (string, error) {
	out := stripSeparators(v)
	for _, r := range out {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", reasonf("may hold only letters A-Z, digits, spaces and dashes")
		}
	}
	out = strings.ToUpper(out)
	if len(out) < minCardLen || len(out) > maxCardLen {
		return "", reasonf("want %d to %d letters and digits, got %d", minCardLen, maxCardLen, len(out))
	}
	return out, nil
}

// stripSeparators drops all white space and dashes (ASCII hyphen-minus and the
// Unicode dash punctuation, which word processors put in for it).
func stripSeparators(v string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || unicode.Is(unicode.Pd, r) {
			return -1
		}
		return r
	}, v)
}
