package help_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge/knowledgetest"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/help"
)

func ptr[T any](v T) *T { return &v }

type fixture struct {
	t   *testing.T
	db  *store.DB
	h   *help.Handler
	srv *httptest.Server
	c   *http.Client
}

func publish(t *testing.T, kb *knowledge.Service, slug, title, body, category string, aud knowledge.Audience) {
	t.Helper()
	knowledgetest.PublishArticle(t, kb, slug, title, body, category, aud)
}

func setup(t *testing.T, db *store.DB) *fixture {
	ctx := context.Background()
	s := app.NewServices(db, "DE")
	t.Cleanup(func() { s.Routing.Close() })
	kind, name := contactpoint.Kind("website"), "Web shop"
	// The help center's forms are contacts that need an answer: its
	// website contact point opens cases (websites do not by default).
	if _, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: []byte(`{"opens_cases": true}`)}); err != nil {
		t.Fatal(err)
	}
	f, err := s.Knowledge.CreateFact(ctx, knowledge.FactSpec{Name: ptr("shipping.fee"), Value: ptr("€4.95")}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Knowledge.SubmitFact(ctx, f.ID, 1, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Knowledge.PublishFact(ctx, f.ID, 1, "test"); err != nil {
		t.Fatal(err)
	}
	publish(t, s.Knowledge, "shipping-charges", "Shipping charges", `Every delivery costs {{fact "shipping.fee"}}.`, "Delivery", knowledge.Public)
	publish(t, s.Knowledge, "returns", "Returning an order", "Send the parcel back within 30 days.", "Returns", knowledge.Public)
	publish(t, s.Knowledge, "kiosk-tricks", "Kiosk tricks zebra", "Tap twice for the zebra menu.", "Delivery", knowledge.Kiosk)
	publish(t, s.Knowledge, "agent-override", "Override secret zebra", "Agents only: waive shipping with code OVERRIDE-7 zebra.", "Delivery", knowledge.Agents)
	h := help.New(help.Options{Knowledge: s.Knowledge, Interactions: s.Interactions, Points: s.ContactPoints})
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &fixture{t: t, db: db, h: h, srv: srv, c: c}
}

func (f *fixture) do(method, path string, form url.Values) (int, string, http.Header) {
	f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	req.Header.Set("User-Agent", "Mozilla/5.0 test")
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.8")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := f.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestAgentsOnlyNeverOnHelpPages walks every kind of /help page and
// requires that neither the agents-only nor the kiosk article shows.
func TestAgentsOnlyNeverOnHelpPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		paths := []string{"/help", "/help/categories/Delivery", "/help/search?q=zebra", "/help/search?q=override",
			"/help/search?q=secret+zebra", "/help/search?q=zeb", "/help/search?q=shipping", "/help/articles/shipping-charges", "/help/contact"}
		for _, p := range paths {
			code, body, _ := f.do("GET", p, nil)
			if code != http.StatusOK {
				t.Fatalf("%s: status %d", p, code)
			}
			for _, bad := range []string{"OVERRIDE-7", "Override secret", "agent-override", "Kiosk tricks", "kiosk-tricks"} {
				if strings.Contains(body, bad) {
					t.Fatalf("%s shows %q", p, bad)
				}
			}
		}
		for _, p := range []string{"/help/articles/agent-override", "/help/articles/kiosk-tricks"} {
			code, body, _ := f.do("GET", p, nil)
			if code != http.StatusNotFound || strings.Contains(body, "OVERRIDE-7") || strings.Contains(body, "zebra menu") {
				t.Fatalf("%s: status %d, body leaks: %v", p, code, strings.Contains(body, "zebra"))
			}
		}
		// A vote on a hidden article is "not found" too.
		if code, _, _ := f.do("POST", "/help/articles/agent-override/helpful", url.Values{"helpful": {"yes"}}); code != http.StatusNotFound {
			t.Fatalf("vote on an agents-only article: status %d", code)
		}
	})
}

func TestPagesSearchAndRecording(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := setup(t, db)
		code, body, hdr := f.do("GET", "/help", nil)
		if code != 200 || !strings.Contains(body, "Shipping charges") || !strings.Contains(body, `href="#main"`) || !strings.Contains(body, "<main") {
			t.Fatalf("home: %d\n%s", code, body)
		}
		if !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("no CSP: %v", hdr)
		}
		// The article shows the current fact value and records a view that cites it.
		code, body, _ = f.do("GET", "/help/articles/shipping-charges", nil)
		if code != 200 || !strings.Contains(body, "€4.95") || !strings.Contains(body, "Was this helpful?") {
			t.Fatalf("article: %d\n%s", code, body)
		}
		f.h.Flush()
		if n := f.count("SELECT COUNT(*) FROM interactions WHERE kind = 'page_view' AND direction = 'passive'"); n != 2 {
			t.Fatalf("page views recorded: %d, want 2", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM kb_citations k JOIN interactions i ON i.id = k.interaction_id
			WHERE i.kind = 'page_view' AND k.kind = 'article' AND k.name = 'shipping-charges' AND k.version = 1`); n != 1 {
			t.Fatalf("article citations: %d", n)
		}
		if n := f.count("SELECT COUNT(*) FROM kb_citations WHERE kind = 'fact' AND name = 'shipping.fee'"); n != 1 {
			t.Fatalf("fact citations: %d", n)
		}
		// Both views are on the one visitor's timeline (same cookie).
		if n := f.count("SELECT COUNT(DISTINCT customer_id) FROM interactions WHERE kind = 'page_view'"); n != 1 {
			t.Fatalf("visitors: %d, want 1", n)
		}

		// Search highlights; hostile queries are just words.
		code, body, _ = f.do("GET", "/help/search?q=shipping", nil)
		if code != 200 || !strings.Contains(body, "<mark>") || !strings.Contains(body, "/help/articles/shipping-charges") {
			t.Fatalf("search: %d\n%s", code, body)
		}
		for _, q := range []string{`<script>alert(1)</script>`, `"*" NEAR( OR AND :`, "\xff\xfe", strings.Repeat("a", 5000), `{title}:x`} {
			code, body, _ = f.do("GET", "/help/search?q="+url.QueryEscape(q), nil)
			if code != 200 || strings.Contains(body, "<script>alert") {
				t.Fatalf("hostile %q: %d", q, code)
			}
		}

		// Unknown slug: a 404 page.
		code, body, _ = f.do("GET", "/help/articles/no-such-thing", nil)
		if code != 404 || !strings.Contains(body, "Page not found") {
			t.Fatalf("unknown slug: %d", code)
		}
		if code, _, _ = f.do("GET", "/help/nowhere/at/all", nil); code != 404 {
			t.Fatalf("unknown path: %d", code)
		}

		// Votes: idempotent per visitor and article.
		for _, v := range []string{"yes", "no", "yes"} {
			code, _, hdr = f.do("POST", "/help/articles/shipping-charges/helpful", url.Values{"helpful": {v}, "version": {"1"}})
			if code != http.StatusSeeOther || !strings.Contains(hdr.Get("Location"), "voted=1") {
				t.Fatalf("vote: %d %v", code, hdr)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM interactions WHERE kind = 'article_feedback' AND outcome = 'helpful'"); n != 1 {
			t.Fatalf("votes stored: %d, want 1", n)
		}
		if n := f.count("SELECT COUNT(*) FROM interactions WHERE kind = 'article_feedback'"); n != 1 {
			t.Fatalf("votes stored: %d, want 1 in all", n)
		}
		if code, _, _ = f.do("POST", "/help/articles/shipping-charges/helpful", url.Values{"helpful": {"maybe"}}); code != 400 {
			t.Fatalf("bad vote: %d", code)
		}

		// Contact forms: a callback request and an email become inbound
		// contacts on a case; a resubmitted form is one contact.
		form := url.Values{"token": {"0123456789abcdef01234567"}, "name": {"Ada Visitor"}, "phone": {"+49 30 1234567"}, "when": {"after 5 pm"}}
		for range 2 {
			if code, body, _ = f.do("POST", "/help/contact/callback", form); code != http.StatusSeeOther {
				t.Fatalf("callback: %d\n%s", code, body)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM interactions WHERE kind = 'callback' AND direction = 'inbound' AND case_id IS NOT NULL"); n != 1 {
			t.Fatalf("callbacks on a case: %d, want 1", n)
		}
		code, _, _ = f.do("POST", "/help/contact/email", url.Values{"email": {"ada@example.com"}, "message": {"Where is my parcel?"}})
		if code != http.StatusSeeOther {
			t.Fatalf("email form: %d", code)
		}
		if n := f.count("SELECT COUNT(*) FROM interactions WHERE kind = 'email' AND direction = 'inbound' AND case_id IS NOT NULL"); n != 1 {
			t.Fatalf("emails on a case: %d", n)
		}
		code, body, _ = f.do("POST", "/help/contact/email", url.Values{"email": {"not-an-address"}, "message": {"hi"}})
		if code != 400 || !strings.Contains(body, "role=\"alert\"") {
			t.Fatalf("bad email: %d", code)
		}
	})
}
