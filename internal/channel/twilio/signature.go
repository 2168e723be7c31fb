// Package twilio is the protocol layer of the Twilio Programmable Messaging
// channel (SMS, MMS and WhatsApp through Twilio): it checks the signatures of
// Twilio's webhooks, parses inbound messages and status callbacks into plain
// structs, classifies the compliance keywords, and sends messages through the
// REST API. It only translates; storing, consent and routing belong to the
// domain packages that call it.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/url"
	"slices"
	"strings"
)

// SignatureHeader is the header in which Twilio sends the request signature.
const SignatureHeader = "X-Twilio-Signature"

// ValidateSignature reports whether signature (the X-Twilio-Signature header)
// was made by Twilio with authToken for a form-encoded request to fullURL
// carrying the POST parameters form. fullURL must be the URL exactly as Twilio
// requested it (scheme, host, path and query as configured), not as a proxy
// rewrote it. For GET webhooks pass a nil form: the parameters are in the URL.
//
// The signed string is the URL followed by every parameter name and value,
// names in byte order; it is signed with HMAC-SHA1 keyed by the auth token and
// base64-encoded. Twilio has not always agreed with itself on whether the
// default port is part of the URL, so, as its own libraries do, the URL is
// also tried with the port added (443/80) when absent and removed when present.
func ValidateSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	want := []byte(signature)
	params := formString(form)
	ok := false
	for _, u := range urlVariants(fullURL) {
		got := []byte(sign(authToken, u+params))
		// Every variant is compared, so that the time taken does not say which one matched.
		if subtle.ConstantTimeCompare(got, want) == 1 {
			ok = true
		}
	}
	return ok
}

// ValidateBodySignature is ValidateSignature for webhooks with a JSON body:
// Twilio then signs only the URL, which carries a bodySHA256 query parameter
// holding the hex SHA-256 of the raw body, and the body must hash to it.
func ValidateBodySignature(authToken, fullURL string, body []byte, signature string) bool {
	u, err := url.Parse(fullURL)
	if err != nil {
		return false
	}
	want, err := hex.DecodeString(u.Query().Get("bodySHA256"))
	if err != nil || len(want) != sha256.Size {
		return false
	}
	sum := sha256.Sum256(body)
	bodyOK := subtle.ConstantTimeCompare(sum[:], want) == 1
	sigOK := ValidateSignature(authToken, fullURL, nil, signature)
	return bodyOK && sigOK
}

// Signature computes the signature Twilio would send for fullURL and form,
// exactly as given (no port variants). Tests and tools that play Twilio use it.
func Signature(authToken, fullURL string, form url.Values) string {
	return sign(authToken, fullURL+formString(form))
}

func sign(authToken, data string) string {
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// formString is the parameters part of the signed string. A name given several
// times contributes each distinct value, sorted, as Twilio's libraries do.
func formString(form url.Values) string {
	if len(form) == 0 {
		return ""
	}
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		vals := slices.Clone(form[k])
		slices.Sort(vals)
		vals = slices.Compact(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	return b.String()
}

// urlVariants is the URL as given, then with the port added when it has none
// (the scheme's default) or without it when it has one. Only the authority is
// rewritten, so that the path and query keep the exact bytes Twilio signed.
func urlVariants(raw string) []string {
	out := []string{raw}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return out
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		userinfo, authority = authority[:i+1], authority[i+1:]
	}
	host, _, err := net.SplitHostPort(authority)
	if err == nil {
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // IPv6 literal
		}
		authority = host
	} else {
		def := ""
		switch strings.ToLower(scheme) {
		case "https":
			def = "443"
		case "http":
			def = "80"
		default:
			return out
		}
		h := strings.TrimSuffix(strings.TrimPrefix(authority, "["), "]")
		if h == "" {
			return out
		}
		authority = net.JoinHostPort(h, def)
	}
	return append(out, scheme+"://"+userinfo+authority+tail)
}
