package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// The profiler is served on its own listener, and stops with it.
func TestDebugListener(t *testing.T) {
	var logs bytes.Buffer
	stop, err := startDebug("127.0.0.1:0", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	url := regexp.MustCompile(`url=(\S+)`).FindStringSubmatch(logs.String())
	if url == nil {
		stop()
		t.Fatalf("no URL logged: %s", logs.String())
	}
	get := func(path string) (int, string, error) {
		resp, err := http.Get(url[1] + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	for path, want := range map[string]string{"": "profile", "heap?debug=1": "heap profile", "goroutine?debug=1": "startDebug"} {
		if code, body, err := get(path); err != nil || code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /debug/pprof/%s: %d %v, body lacks %q", path, code, err, want)
		}
	}
	stop()
	if _, _, err := get(""); err == nil {
		t.Fatal("the profiler still answers after stop")
	}
	if _, err := startDebug("127.0.0.1:bad", slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--debug-addr") {
		t.Fatalf("a bad address: %v", err)
	}
}
