package segment_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/channel/segment"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// TestEndToEnd sends Segment calls over HTTP to the handler wired to the real
// services on a fresh SQLite store.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	customers := customer.NewService(db, "US")
	interactions := interaction.NewService(db, customers)
	points := contactpoint.NewService(db)
	kind, name := contactpoint.Kind("website"), "Web shop"
	cp, err := points.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if cp.WriteKey == "" {
		t.Fatal("no write key")
	}

	h := &segment.Handler{Points: points, Recorder: interactions}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	post := func(path, key string, body []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.SetBasicAuth(key, "")
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(b) != `{"success":true}` {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
		}
	}

	// A visitor browses anonymously, then signs in and orders; the library
	// sends it all in one batch, 10 s after the order, by a clock 1 h behind.
	now := time.Now().UTC()
	clock := now.Add(-time.Hour)
	ts := func(ago time.Duration) string { return clock.Add(-ago).Format(time.RFC3339Nano) }
	batch := []byte(fmt.Sprintf(`{"batch":[
		{"type":"page","anonymousId":"anon-1","name":"Pricing","properties":{"title":"Pricing","url":"https://shop.example/pricing"},
		 "context":{"campaign":{"name":"spring","source":"google","medium":"cpc"}},"messageId":"msg-page","timestamp":%q},
		{"type":"track","anonymousId":"anon-1","event":"Plan Selected","properties":{"plan":"pro"},"messageId":"msg-track","timestamp":%q},
		{"type":"identify","userId":"user-1","anonymousId":"anon-1","traits":{"email":"Ann@Example.com","name":"Ann Smith"},
		 "messageId":"msg-identify","timestamp":%q},
		{"type":"track","userId":"user-1","event":"Order Completed","properties":{"revenue":49.9,"currency":"EUR","coupon":"SPRING10"},
		 "messageId":"msg-order","timestamp":%q}
	],"sentAt":%q,"context":{"library":{"name":"analytics.js","version":"npm:next-1.70.0"}}}`,
		ts(40*time.Second), ts(30*time.Second), ts(20*time.Second), ts(10*time.Second), ts(0)))
	post("/v1/batch", cp.WriteKey, batch)

	found, err := customers.FindByIdentifier(ctx, "user_id:user-1")
	if err != nil || len(found) != 1 {
		t.Fatalf("find user-1: %v, %v", found, err)
	}
	ann := found[0]
	page, err := interactions.Timeline(ctx, ann.ID, interaction.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 3 {
		t.Fatalf("timeline has %d items, want page, track and order", len(page.Items))
	}
	byKind := map[string]*interaction.Interaction{}
	for _, it := range page.Items {
		byKind[it.Kind] = it
		if it.Source != segment.Source(cp.ID) || it.ContactPointID == nil || *it.ContactPointID != cp.ID || it.Direction != "passive" {
			t.Errorf("%s: source %q contact point %v direction %q", it.Kind, it.Source, it.ContactPointID, it.Direction)
		}
	}
	pv, ev, order := byKind["page_view"], byKind["event"], byKind["purchase"]
	if pv == nil || ev == nil || order == nil {
		t.Fatalf("kinds %v", byKind)
	}
	if pv.Subject != "Pricing" || pv.Content != "https://shop.example/pricing" || pv.Campaign.Name != "spring" ||
		pv.Campaign.Source != "google" || pv.ExternalID != "msg-page" {
		t.Errorf("page view %+v", pv)
	}
	if ev.Subject != "Plan Selected" || ev.ExternalID != "msg-track" {
		t.Errorf("track %+v", ev)
	}
	if order.Value == nil || *order.Value != (interaction.Money{Minor: 4990, Currency: "EUR"}) || order.PromoCode != "SPRING10" {
		t.Errorf("order %+v value %v", order, order.Value)
	}
	// The clock skew is taken out: the order happened 10 s before it was
	// sent, so about 10 s before it was received, not an hour earlier.
	if d := order.OccurredAt.Sub(now.Add(-10 * time.Second)); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("order occurred at %v, received about %v", order.OccurredAt, now)
	}
	if d := pv.OccurredAt.Sub(order.OccurredAt); d != -30*time.Second {
		t.Errorf("page view %v before the order, want 30s", -d)
	}

	// The identify set the email, the name and linked the anonymous id.
	if !slices.Contains(ann.Identifiers, identifier.Identifier{Kind: identifier.Email, Value: "ann@example.com"}) ||
		!slices.Contains(ann.Identifiers, identifier.Identifier{Kind: identifier.AnonymousID, Value: "anon-1"}) {
		t.Errorf("identifiers %v", ann.Identifiers)
	}
	if ann.Name != "Ann Smith" {
		t.Errorf("name %q", ann.Name)
	}
	byEmail, err := customers.FindByIdentifier(ctx, "email:ann@example.com")
	if err != nil || len(byEmail) != 1 || byEmail[0].ID != ann.ID {
		t.Fatalf("find by email: %v, %v", byEmail, err)
	}

	// Sending the same batch again (a client retry) adds nothing.
	before, err := interactions.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	post("/v1/batch", cp.WriteKey, batch)
	after, err := interactions.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before != 3 || after != before {
		t.Fatalf("interactions %d then %d", before, after)
	}
	if n, _ := customers.Count(ctx); n != 1 {
		t.Fatalf("%d customers", n)
	}

	// analytics.js: single calls with the key in the body. An alias ties an
	// earlier anonymous visitor to a user.
	post("/v1/p", "", []byte(fmt.Sprintf(`{"type":"page","anonymousId":"anon-2","name":"Home","messageId":"msg-home",
		"writeKey":%q,"timestamp":%q,"sentAt":%q}`, cp.WriteKey, ts(time.Second), ts(0))))
	post("/v1/alias", cp.WriteKey, []byte(`{"userId":"user-2","previousId":"anon-2","messageId":"msg-alias"}`))
	post("/v1/identify", cp.WriteKey, []byte(`{"userId":"user-2","traits":{"email":"bob@example.com"},"messageId":"msg-id-2"}`))
	bob := findOne(t, customers, "user_id:user-2")
	if byMail := findOne(t, customers, "email:bob@example.com"); byMail.ID != bob.ID {
		t.Fatalf("email on %s, user on %s", byMail.ID, bob.ID)
	}
	page, err = interactions.Timeline(ctx, bob.ID, interaction.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Items[0].Subject != "Home" {
		t.Fatalf("bob's timeline %+v", page.Items)
	}
	if bob.ID == ann.ID {
		t.Fatal("bob is ann")
	}
}

func findOne(t *testing.T, customers *customer.Service, ident string) *customer.Customer {
	t.Helper()
	found, err := customers.FindByIdentifier(context.Background(), ident)
	if err != nil || len(found) != 1 {
		t.Fatalf("find %s: %v, %v", ident, found, err)
	}
	return found[0]
}
