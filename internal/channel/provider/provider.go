// Package provider holds what the clients of the messaging providers
// (Twilio, Meta, Telegram) share about talking to a remote API.
package provider

import (
	"errors"
	"net/url"
	"unicode/utf8"
)

// Clip cuts s to at most n bytes on a character boundary, marking the cut:
// provider messages end up in logs and on the case page.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// TransportError drops the request URL from an HTTP client's error: some
// APIs carry credentials in it (Telegram's bot token), and for the others
// it is noise.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
