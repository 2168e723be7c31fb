package segment_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// TestOfficialClientLibraries sends events with the official Segment and
// RudderStack Node libraries, unchanged, to a real server and store. It
// needs node and the libraries (npm install in testdata/clients, which
// .ci/run does); without them it skips and says why, except in CI, where
// their absence is a failure rather than a quiet skip.
func TestOfficialClientLibraries(t *testing.T) {
	dir, _ := filepath.Abs("testdata/clients")
	skip := t.Skip
	if os.Getenv("CI") != "" {
		skip = t.Fatal
	}
	if _, err := exec.LookPath("node"); err != nil {
		skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node")); err != nil {
		skip("client libraries not installed: run npm install --prefix internal/channel/segment/testdata/clients")
	}
	ctx := context.Background()
	s := app.NewServices(storetest.SQLite(t), "US")
	srv := httptest.NewServer(s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
	defer srv.Close()
	kind, name := contactpoint.Kind("website"), "Web shop"
	cp, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "send.mjs", srv.URL, cp.WriteKey)
	cmd.Dir = dir
	done := make(chan struct{})
	var out []byte
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the client libraries did not finish in 60 s")
	}
	if err != nil {
		t.Fatalf("client libraries reported errors: %v\n%s", err, out)
	}

	// Segment: the anonymous checkout visit and the order are one customer,
	// found by the email from identify.
	sally, err := s.Customers.FindByIdentifier(ctx, "email:sally@example.com")
	if err != nil || len(sally) != 1 || sally[0].Name != "Sally Segment" {
		t.Fatalf("segment customer: %+v %v", sally, err)
	}
	page, err := s.Interactions.Timeline(ctx, sally[0].ID, interaction.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]*interaction.Interaction{}
	for _, it := range page.Items {
		kinds[it.Kind] = it
	}
	if kinds["page_view"] == nil || kinds["page_view"].Campaign.Name != "spring_print" {
		t.Fatalf("segment page view with campaign missing: %+v", page.Items)
	}
	if p := kinds["purchase"]; p == nil || p.Value == nil || p.Value.Minor != 49999 || p.Value.Currency != "USD" {
		t.Fatalf("segment order missing or wrong: %+v", kinds["purchase"])
	}

	// RudderStack (gzipped batches): identify with a phone, a track and a page.
	rudi, err := s.Customers.FindByIdentifier(ctx, "phone:+12125550123")
	if err != nil || len(rudi) != 1 || rudi[0].Name != "Rudi Rudder" {
		t.Fatalf("rudderstack customer: %+v %v", rudi, err)
	}
	page, err = s.Interactions.Timeline(ctx, rudi[0].ID, interaction.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Fatalf("rudderstack timeline has %d interactions, want the track and the page", len(page.Items))
	}
}
