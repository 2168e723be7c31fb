package channelconfig

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

func TestApplyKeepsUnknownKeysAndDropsEmptyOnes(t *testing.T) {
	f, _ := For("email")
	old := json.RawMessage(`{"custom":1,"imap":{"host":"old.example.com","port":993},"address":"a@example.com"}`)
	st, secrets, err := Apply(f, old, Input{Values: map[string]string{"address": "Help@Example.com", "smtp.host": "smtp.example.com", "smtp.port": "587"},
		Secrets: map[string]string{"smtp_password": "pw"}, Clear: []string{"imap_password"}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(st, &m)
	if m["custom"] != float64(1) || m["imap"] != nil || m["address"] != "help@example.com" || m["smtp"].(map[string]any)["port"] != float64(587) {
		t.Errorf("settings %s", st)
	}
	if secrets["smtp_password"] != "pw" || secrets["imap_password"] != "" || len(secrets) != 2 {
		t.Errorf("secrets %v", secrets)
	}
	if _, secrets, _ = Apply(f, old, Input{}); secrets != nil {
		t.Errorf("no secrets typed: %v, want nil (unchanged)", secrets)
	}
}

func TestApplyExplainsEachBadField(t *testing.T) {
	f, _ := For("social")
	_, _, err := Apply(f, nil, Input{Values: map[string]string{"platform": "myspace", "page_id": "12ab", "public_url": "ftp://x"}})
	var p Problems
	if !errors.As(err, &p) || len(p) != 3 || p["platform"] == "" || p["page_id"] == "" || p["public_url"] == "" {
		t.Fatalf("problems %v", err)
	}
}

func TestMissingFollowsThePlatform(t *testing.T) {
	f, _ := For("social")
	tg := json.RawMessage(`{"platform":"telegram"}`)
	if got := Missing(f, tg, nil); !slices.Equal(got, []string{"Bot token"}) {
		t.Errorf("telegram missing %v", got)
	}
	if got := Missing(f, tg, []string{"bot_token"}); len(got) != 0 {
		t.Errorf("configured telegram missing %v", got)
	}
	if p := f.HookPath(7, tg); p != "/hooks/telegram/7" {
		t.Errorf("telegram hook %q", p)
	}
	if got := Missing(f, json.RawMessage(`{"platform":"messenger"}`), []string{"app_secret", "access_token", "verify_token"}); !slices.Equal(got, []string{"Page ID or Phone number ID"}) {
		t.Errorf("messenger missing %v", got)
	}
}
