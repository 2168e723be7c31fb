// Package meta is the protocol layer of Meta's messaging channels: Messenger
// (Facebook Pages), Instagram Direct and the WhatsApp Business Cloud API. It
// answers the webhook verification challenge, checks the webhook signature,
// parses webhook payloads into plain inbound messages and status updates, and
// sends text messages through the Graph API. It only translates; storing,
// consent and routing belong to the domain packages that call it.
package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the raw body,
// keyed with the app secret.
const SignatureHeader = "X-Hub-Signature-256"

// ValidateSignature reports whether header (the X-Hub-Signature-256 value)
// signs body with appSecret. body must be the raw bytes as received: any
// re-encoding (Meta escapes "/" and non-ASCII as \u sequences) breaks it.
func ValidateSignature(appSecret string, body []byte, header string) bool {
	if appSecret == "" {
		return false
	}
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, Sign(appSecret, body))
}

// Sign is the HMAC-SHA256 of body with appSecret; tests and tools that play
// Meta prefix its hex form with "sha256=".
func Sign(appSecret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return m.Sum(nil)
}

// VerifyError is a refused webhook verification request. It wraps
// errs.ErrForbidden, as the caller is not who it claims to be, or asks for
// something else than a subscription.
type VerifyError struct {
	Field  string // the query parameter at fault
	Reason string
}

func (e *VerifyError) Error() string {
	return "meta: webhook verification refused: " + e.Field + ": " + e.Reason
}

func (e *VerifyError) Unwrap() error { return errs.ErrForbidden }

// VerifyChallenge answers the GET request Meta sends when a webhook is set up:
// with hub.mode "subscribe" and hub.verify_token equal to the token we gave
// Meta, the answer is hub.challenge, to be echoed back as the response body.
func VerifyChallenge(query url.Values, verifyToken string) (string, error) {
	if mode := query.Get("hub.mode"); mode != "subscribe" {
		return "", &VerifyError{Field: "hub.mode", Reason: "must be subscribe"}
	}
	if verifyToken == "" || !hmac.Equal([]byte(query.Get("hub.verify_token")), []byte(verifyToken)) {
		return "", &VerifyError{Field: "hub.verify_token", Reason: "does not match"}
	}
	challenge := query.Get("hub.challenge")
	// Meta sends a number; anything else echoed back would be ours to reflect.
	if challenge == "" || len(challenge) > 128 || strings.TrimLeft(challenge, "0123456789") != "" {
		return "", &VerifyError{Field: "hub.challenge", Reason: "must be a number"}
	}
	return challenge, nil
}
