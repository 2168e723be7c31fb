package provider

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestClipKeepsCharactersWhole(t *testing.T) {
	if got := Clip("Grüße", 3); got != "Gr…" {
		t.Fatalf("Clip cut inside ü: %q", got)
	}
	if got := Clip("short", 10); got != "short" {
		t.Fatalf("Clip changed a short string: %q", got)
	}
}

func TestTransportErrorHidesTheURL(t *testing.T) {
	_, err := http.Get("http://127.0.0.1:1/bot123456:SECRET/sendMessage")
	if err == nil {
		t.Skip("something listens on port 1")
	}
	if got := TransportError(err); strings.Contains(got.Error(), "SECRET") || errors.Is(got, nil) {
		t.Fatalf("the bot token is still in %q", got)
	}
}
