package webchat

import (
	"encoding/json"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// TestUserHash pins the hash to RFC 4231's first HMAC-SHA256 test case, so
// that a site computing it with any standard library agrees.
func TestUserHash(t *testing.T) {
	key := string([]byte{0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b})
	if got, want := UserHash("Hi There", key), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"; got != want {
		t.Errorf("UserHash = %s, want %s", got, want)
	}
}

func TestAllowsOrigin(t *testing.T) {
	p := &Point{Settings: Settings{AllowedOrigins: []string{"https://shop.example/", "null"}}}
	for origin, want := range map[string]bool{
		"https://shop.example": true, "https://SHOP.example": true, "null": true,
		"": false, "https://shop.example.evil": false, "http://shop.example": false,
	} {
		if got := p.AllowsOrigin(origin); got != want {
			t.Errorf("AllowsOrigin(%q) = %v", origin, got)
		}
	}
	if (&Point{}).AllowsOrigin("https://shop.example") {
		t.Error("no allowed origins allowed one")
	}
}

func TestValidText(t *testing.T) {
	for v, want := range map[string]bool{"Hello\nthere\t!": true, "é ✓": true, "a\x00b": false, "a\x1bb": false, "\xff": false} {
		if validText(v) != want {
			t.Errorf("validText(%q) = %v", v, !want)
		}
	}
}

func TestConcerns(t *testing.T) {
	cp := id.ID(42)
	data := func(kind string, cpID id.ID) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"kind": kind, "contact_point_id": cpID})
		return b
	}
	for _, c := range []struct {
		e    bus.Event
		want bool
	}{
		{bus.Event{Type: "interaction.created", Data: data("chat", cp)}, true},
		{bus.Event{Type: "interaction.created", Data: data("chat", 7)}, false},
		{bus.Event{Type: "interaction.created", Data: data("email", cp)}, false},
		{bus.Event{Type: "interaction.created", Truncated: true}, true},
		{bus.Event{Type: "webchat.changed"}, true},
		{bus.Event{Type: "case.updated"}, false},
	} {
		if got := Concerns(c.e, cp); got != c.want {
			t.Errorf("Concerns(%s %s) = %v", c.e.Type, c.e.Data, got)
		}
	}
}
