package kiosk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/kiosk"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

// world is a kiosk with a walk-in queue, two customers with bills, and
// articles of every audience.
type world struct {
	t        *testing.T
	s        *app.Services
	srv      *httptest.Server
	kioskID  id.ID
	queueID  id.ID
	base     string
	annBill  id.ID // Ann Carter's bill
	bobBill  id.ID // Bob Diaz's bill
	annID    id.ID
	bobID    id.ID
	articles map[string]id.ID

	mu    sync.Mutex
	codes map[string]string // phone → last code sent
	last  string            // the last code sent to anyone
	now   time.Time
}

const (
	annPhone = "+15555550123"
	annCard  = "LC12345678"
	bobPhone = "+15555550199"
)

func newWorld(t *testing.T, db *store.DB, tries *ratelimit.Limiter) *world {
	t.Helper()
	ctx := t.Context()
	s := app.NewServices(db, "US")
	w := &world{t: t, s: s, codes: map[string]string{}, articles: map[string]id.ID{}, now: time.Now().UTC()}
	s.Kiosk.SetClock(func() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now })
	// Codes go out through an SMS contact point to a server that answers
	// as Twilio's Messages API does; the code is read from the text sent.
	api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		if r.Method != "POST" || r.URL.Path != "/2010-04-01/Accounts/AC123/Messages.json" || user != "AC123" || pass != "tok" {
			http.Error(rw, `{"code": 20003, "message": "Authenticate"}`, http.StatusUnauthorized)
			return
		}
		r.ParseForm()
		code := regexp.MustCompile(`^(\d{6}) is your code to sign in at the Main Street store kiosk\.`).FindStringSubmatch(r.PostForm.Get("Body"))
		if code == nil || r.PostForm.Get("From") != "+15550100" {
			http.Error(rw, `{"code": 21602, "message": "Message body is required."}`, http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.codes[r.PostForm.Get("To")], w.last = code[1], code[1]
		w.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusCreated)
		fmt.Fprint(rw, `{"sid": "SM0001", "status": "queued"}`)
	}))
	t.Cleanup(api.Close)
	skind, sname := contactpoint.Kind("sms"), "Texts"
	sms, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &skind, Name: &sname, Secrets: map[string]string{"auth_token": "tok"},
		Settings: json.RawMessage(fmt.Sprintf(`{"account_sid": "AC123", "from": "+15550100", "api_base_url": %q}`, api.URL))})
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Main Street walk-ins", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelTask}}})
	if err != nil {
		t.Fatal(err)
	}
	w.queueID = q.ID
	kind, name := contactpoint.Kind("kiosk"), "Main Street store kiosk"
	settings, _ := json.Marshal(map[string]any{"walk_in_queue_id": q.ID, "code_sms_contact_point_id": sms.ID})
	cp, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	w.kioskID, w.base = cp.ID, "/kiosk/"+cp.ID.String()
	bkind, bname := contactpoint.Kind("billing"), "Billing"
	billing, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &bkind, Name: &bname})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Interactions.Record(ctx, []interaction.Input{
		{Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: annPhone}, {Kind: "loyalty_card", Value: annCard}},
			Traits: map[string]any{"name": "Ann Carter"}, ContactPointID: billing.ID, Kind: "bill", Direction: interaction.Passive,
			OccurredAt: w.now.Add(-48 * time.Hour), Subject: "March electricity bill", Value: &interaction.Money{Minor: 8450, Currency: "USD"}},
		{Identifiers: []customer.RawIdentifier{{Kind: "phone", Value: bobPhone}},
			Traits: map[string]any{"name": "Bob Diaz"}, ContactPointID: billing.ID, Kind: "bill", Direction: interaction.Passive,
			OccurredAt: w.now.Add(-24 * time.Hour), Subject: "Bob's secret bill", Value: &interaction.Money{Minor: 99900, Currency: "USD"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.annBill, w.annID, w.bobBill, w.bobID = res[0].ID, res[0].CustomerID, res[1].ID, res[1].CustomerID
	for _, a := range []struct{ slug, title, body, audience string }{
		{"returns", "Returning a product", "Bring the receipt to the counter within 30 days.", "public"},
		{"kiosk-pickup", "Picking up an order here", "Scan the pickup code at this kiosk.", "kiosk"},
		{"agent-override", "Refund override procedure", "Supervisors may override the zebracode limit.", "agents"},
	} {
		cat := "Help"
		art, err := s.Knowledge.CreateArticle(ctx, knowledge.ArticleSpec{Slug: &a.slug, Title: &a.title, Body: &a.body, Category: &cat, Audience: &a.audience}, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Knowledge.SubmitArticle(ctx, art.ID, 1, "test"); err != nil {
			t.Fatal(err)
		}
		if err := s.Knowledge.PublishArticle(ctx, art.ID, 1, "test"); err != nil {
			t.Fatal(err)
		}
		w.articles[a.slug] = art.ID
	}
	if tries == nil {
		tries = ratelimit.New(1000, 1000)
	}
	mux := http.NewServeMux()
	h := &kiosk.Handler{Log: slog.New(slog.DiscardHandler), Kiosk: s.Kiosk, Knowledge: s.Knowledge, Tries: tries}
	h.Register(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

func (w *world) code(phone string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.codes[phone]
}

// client is one kiosk browser: a cookie jar, no redirects followed.
type client struct {
	w  *world
	hc *http.Client
}

func (w *world) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{w: w, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, form url.Values) (int, string, string) {
	c.w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.w.srv.URL+c.w.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

func (c *client) get(path string) (int, string, string) { return c.do("GET", path, nil) }
func (c *client) post(path string, kv ...string) (int, string, string) {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return c.do("POST", path, f)
}

// signIn identifies with a phone and the code texted to it.
func (c *client) signIn(phone string) {
	c.w.t.Helper()
	if st, _, body := c.post("/identify/phone", "phone", phone); st != 200 || !strings.Contains(body, "code-form") {
		c.w.t.Fatalf("sending a code: %d %s", st, body)
	}
	c.w.mu.Lock()
	code := c.w.last
	c.w.mu.Unlock()
	if st, loc, body := c.post("/identify/code", "code", code); st != 303 || !strings.HasSuffix(loc, "/me") {
		c.w.t.Fatalf("verifying the code: %d %s %s", st, loc, body)
	}
}

func TestKioskVisit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		c := w.client()
		c.signIn("(555) 555-0123")
		st, _, body := c.get("/me")
		if st != 200 || !strings.Contains(body, "Ann Carter") || !strings.Contains(body, "March electricity bill") {
			t.Fatalf("/me: %d %s", st, body)
		}
		if strings.Contains(body, "Bob") {
			t.Fatal("/me shows another customer's bill")
		}
		// The session is on Ann's timeline.
		page, err := w.s.Interactions.Timeline(ctx, w.annID, interaction.TimelineQuery{Kinds: []string{"kiosk_session"}})
		if err != nil || len(page.Items) != 1 || *page.Items[0].ContactPointID != w.kioskID {
			t.Fatalf("kiosk_session on the timeline: %v %+v", err, page)
		}
		// A copy of her bill becomes a case.
		if st, loc, _ := c.post("/me/bill-copy", "bill", w.annBill.String()); st != 303 || !strings.Contains(loc, "done=bill") {
			t.Fatalf("bill copy: %d %s", st, loc)
		}
		cs, err := w.s.Cases.ForCustomer(ctx, w.annID)
		if err != nil || len(cs) != 1 || !strings.Contains(cs[0].Subject, "March electricity bill") {
			t.Fatalf("bill copy case: %v %+v", err, cs)
		}
		// Check in: a task work item in the walk-in queue, with Ann.
		if st, loc, _ := c.post("/me/check-in"); st != 303 || !strings.HasSuffix(loc, "/me/queue") {
			t.Fatalf("check in: %d %s", st, loc)
		}
		items, err := w.s.Routing.ListItems(ctx, routing.ItemQuery{QueueID: w.queueID})
		if err != nil || len(items) != 1 || items[0].CustomerID != w.annID || items[0].Channel != engine.ChannelTask {
			t.Fatalf("walk-in items: %v %+v", err, items)
		}
		if st, _, body := c.get("/me/queue"); st != 200 || !strings.Contains(body, `id="position">1<`) {
			t.Fatalf("queue place: %d %s", st, body)
		}
		// Checking in again keeps the place; a second visitor is number 2.
		c.post("/me/check-in")
		c2 := w.client()
		c2.signIn(bobPhone)
		c2.post("/me/check-in")
		if _, _, body := c2.get("/me/queue?partial=1"); !strings.Contains(body, `id="position">2<`) {
			t.Fatalf("second place: %s", body)
		}
		// Callback and rating.
		if st, _, _ := c.post("/me/callback"); st != 303 {
			t.Fatalf("callback: %d", st)
		}
		if st, _, _ := c.post("/me/rate", "stars", "4"); st != 303 {
			t.Fatalf("rate: %d", st)
		}
		if st, _, _ := c.post("/me/rate", "stars", "9"); st != 422 {
			t.Fatalf("rating 9: %d", st)
		}
		page, err = w.s.Interactions.Timeline(ctx, w.annID, interaction.TimelineQuery{Kinds: []string{"survey_answer", "callback"}})
		if err != nil || len(page.Items) != 2 {
			t.Fatalf("callback and rating: %v %+v", err, page)
		}
		for _, it := range page.Items {
			if it.Kind == "survey_answer" && (it.Rating == nil || *it.Rating != 4) {
				t.Fatalf("rating: %+v", it)
			}
		}
	})
}

func TestKioskResetForgets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		c := w.client()
		c.signIn(annPhone)
		u, _ := url.Parse(w.srv.URL + w.base)
		old := c.hc.Jar.Cookies(u)
		if len(old) != 1 {
			t.Fatalf("cookies: %v", old)
		}
		if st, loc, _ := c.post("/reset"); st != 303 || loc != w.base {
			t.Fatalf("reset: %d %s", st, loc)
		}
		// The old cookie, put back as if the browser kept it, opens nothing.
		c.hc.Jar.SetCookies(u, old)
		for _, p := range []string{"/me", "/me/queue", "/me/queue?partial=1"} {
			st, loc, body := c.get(p)
			if st != 303 || strings.Contains(body, "Ann") || !strings.Contains(loc, "timeout=1") {
				t.Fatalf("%s after reset: %d %s %s", p, st, loc, body)
			}
		}
		if st, _, _ := c.post("/me/bill-copy", "bill", w.annBill.String()); st != 303 {
			t.Fatalf("bill copy after reset: %d", st)
		}
		if _, _, body := c.get(""); strings.Contains(body, "Ann") || strings.Contains(body, "My visit") {
			t.Fatalf("home after reset shows the customer: %s", body)
		}

		// Idle expiry on the server: a second sign-in, then silence.
		c2 := w.client()
		c2.signIn(annPhone)
		if st, _, _ := c2.get("/me"); st != 200 {
			t.Fatalf("/me: %d", st)
		}
		w.advance(w.s.Kiosk.Idle + time.Second)
		if st, _, body := c2.get("/me"); st != 303 || strings.Contains(body, "Ann") {
			t.Fatalf("/me after idle: %d %s", st, body)
		}
	})
}

func TestKioskCodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		w.s.Kiosk.Idle = time.Hour // sessions outlive codes here
		// Expiry: a code 5 minutes old is dead.
		c := w.client()
		c.post("/identify/phone", "phone", annPhone)
		w.advance(5*time.Minute + time.Second)
		if st, _, body := c.post("/identify/code", "code", w.code(annPhone)); st != 410 || !strings.Contains(body, "expired") {
			t.Fatalf("expired code: %d %s", st, body)
		}

		// Single use.
		c = w.client()
		c.signIn(annPhone)
		if st, _, body := c.post("/identify/code", "code", w.code(annPhone)); st != 410 || !strings.Contains(body, "expired") {
			t.Fatalf("reused code: %d %s", st, body)
		}

		// At most five tries: the sixth fails even with the right code.
		w.advance(20 * time.Minute) // past the per-phone window
		c = w.client()
		c.post("/identify/phone", "phone", annPhone)
		good := w.code(annPhone)
		bad := "000000"
		if good == bad {
			bad = "111111"
		}
		for i := range 5 {
			if st, _, _ := c.post("/identify/code", "code", bad); st != 422 {
				t.Fatalf("wrong try %d: %d", i+1, st)
			}
		}
		if st, _, body := c.post("/identify/code", "code", good); st != 410 || !strings.Contains(body, "too many") {
			t.Fatalf("right code after 5 wrong: %d %s", st, body)
		}
		if st, _, _ := c.get("/me"); st != 303 {
			t.Fatal("a locked code identified the visitor")
		}

		// Rate limit per phone: 3 codes in 15 minutes.
		w.advance(20 * time.Minute)
		for i := range 3 {
			if st, _, _ := w.client().post("/identify/phone", "phone", bobPhone); st != 200 {
				t.Fatalf("code %d: %d", i+1, st)
			}
		}
		if st, _, _ := w.client().post("/identify/phone", "phone", bobPhone); st != 429 {
			t.Fatalf("fourth code for one phone: %d", st)
		}
		// Per kiosk: 20 codes in 15 minutes, whatever the phones.
		w.advance(20 * time.Minute)
		for i := range 20 {
			phone := "+1555555" + string(rune('1'+i/10)) + string(rune('0'+i%10)) + "00"
			if st, _, body := w.client().post("/identify/phone", "phone", phone); st != 200 {
				t.Fatalf("kiosk code %d (%s): %d %s", i+1, phone, st, body)
			}
		}
		if st, _, _ := w.client().post("/identify/phone", "phone", annPhone); st != 429 {
			t.Fatalf("21st code at one kiosk: %d", st)
		}
	})
}

func TestKioskTriesLimited(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t), ratelimit.New(0.01, 3))
	c := w.client()
	for range 3 {
		c.post("/identify/card", "card", "NOPE0000")
	}
	if st, _, _ := c.post("/identify/card", "card", annCard); st != 429 {
		t.Fatalf("fourth try at one kiosk: %d", st)
	}
}

func TestKioskCardAndIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		c := w.client()
		if st, _, body := c.post("/identify/card", "card", "lc-1234 5678"); st != 303 {
			t.Fatalf("card: %d %s", st, body)
		}
		if _, _, body := c.get("/me"); !strings.Contains(body, "Ann Carter") {
			t.Fatalf("card sign-in: %s", body)
		}
		if st, _, _ := c.post("/identify/card", "card", "ZZ99999999"); st != 422 {
			t.Fatalf("unknown card: %d", st)
		}
		// Bob's bill is not Ann's to ask for.
		if st, _, _ := c.post("/me/bill-copy", "bill", w.bobBill.String()); st != 404 {
			t.Fatalf("someone else's bill: %d", st)
		}
		if cs, _ := w.s.Cases.ForCustomer(ctx, w.bobID); len(cs) != 0 {
			t.Fatalf("a case was opened for Bob: %+v", cs)
		}
		if cs, _ := w.s.Cases.ForCustomer(ctx, w.annID); len(cs) != 0 {
			t.Fatalf("a case was opened for Ann: %+v", cs)
		}
		// A session of another kiosk's path does not carry over.
		kind, name := contactpoint.Kind("kiosk"), "Airport kiosk"
		other, err := w.s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(w.srv.URL + w.base)
		cookie := c.hc.Jar.Cookies(u)[0]
		req, _ := http.NewRequest("GET", w.srv.URL+"/kiosk/"+other.ID.String()+"/me", nil)
		req.AddCookie(cookie)
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 303 {
			t.Fatalf("Ann's cookie at another kiosk: %d", resp.StatusCode)
		}
	})
}

func TestKioskArticles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		c := w.client()
		_, _, home := c.get("")
		if !strings.Contains(home, "Returning a product") || !strings.Contains(home, "Picking up an order here") {
			t.Fatalf("home lacks public or kiosk articles: %s", home)
		}
		if strings.Contains(home, "Refund override") {
			t.Fatal("home lists an agents-only article")
		}
		if st, _, body := c.get("/articles/" + w.articles["agent-override"].String()); st != 404 || strings.Contains(body, "zebracode") {
			t.Fatalf("agents-only article: %d %s", st, body)
		}
		if _, _, body := c.get("/search?q=zebracode"); strings.Contains(body, "Refund override") || !strings.Contains(body, "no-results") {
			t.Fatalf("search found an agents-only article: %s", body)
		}
		if _, _, body := c.get("/search?q=pickup"); !strings.Contains(body, "Picking up") {
			t.Fatalf("search missed the kiosk article: %s", body)
		}
		// Shown anonymously: cited on a page view at the kiosk.
		if st, _, body := c.get("/articles/" + w.articles["kiosk-pickup"].String()); st != 200 || !strings.Contains(body, "Scan the pickup code") {
			t.Fatalf("kiosk article: %d %s", st, body)
		}
		if n := citations(t, db, w.kioskID, w.articles["kiosk-pickup"]); n != 1 {
			t.Fatalf("citations of the anonymous view: %d", n)
		}
		// Shown once identified: cited on the kiosk session.
		c.signIn(annPhone)
		c.get("/articles/" + w.articles["returns"].String())
		page, err := w.s.Interactions.Timeline(ctx, w.annID, interaction.TimelineQuery{Kinds: []string{"kiosk_session"}})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("session: %v %+v", err, page)
		}
		cites, err := w.s.Knowledge.Citations(ctx, page.Items[0].ID)
		if err != nil || len(cites) != 1 || cites[0].TargetID != w.articles["returns"] || *cites[0].ContactPointID != w.kioskID {
			t.Fatalf("citation on the session: %v %+v", err, cites)
		}
	})
}

func citations(t *testing.T, db *store.DB, cp, article id.ID) int {
	t.Helper()
	var n int
	if err := db.QueryRow(t.Context(), "SELECT COUNT(*) FROM kb_citations WHERE contact_point_id = ? AND target_id = ?", cp, article).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A kiosk with no SMS contact point offers no sign-in by phone, and says so
// when asked anyway; the demo, which has no SMS provider, shows the code on
// the screen under a DEMO banner instead.
func TestKioskWithoutSMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		settings, _ := json.Marshal(map[string]any{"walk_in_queue_id": w.queueID})
		if _, err := w.s.ContactPoints.Update(ctx, w.kioskID, contactpoint.Spec{Settings: settings}); err != nil {
			t.Fatal(err)
		}
		c := w.client()
		if st, _, body := c.get("/identify"); st != 200 || strings.Contains(body, "phone-form") || !strings.Contains(body, "card-form") {
			t.Fatalf("sign-in page without SMS: %d, phone form shown: %v", st, strings.Contains(body, "phone-form"))
		}
		if st, _, body := c.post("/identify/phone", "phone", annPhone); st != 409 || !strings.Contains(body, "cannot text codes") {
			t.Fatalf("asking for a code without SMS: %d %s", st, body)
		}
		if w.code(annPhone) != "" {
			t.Fatal("a code was texted without an SMS contact point")
		}

		if err := db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('demo.filled', '1')")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		// The whole application, which tells the kiosk it runs the demo.
		w.srv = httptest.NewServer(w.s.Handler(slog.New(slog.DiscardHandler), app.Limits{}))
		t.Cleanup(w.srv.Close)
		c = w.client()
		if st, _, body := c.get("/identify"); st != 200 || !strings.Contains(body, "phone-form") || !strings.Contains(body, "demo-banner") {
			t.Fatalf("demo sign-in page: %d, phone form %v, banner %v", st, strings.Contains(body, "phone-form"), strings.Contains(body, "demo-banner"))
		}
		st, _, body := c.post("/identify/phone", "phone", annPhone)
		code := regexp.MustCompile(`id="demo-code"[^>]*>[\s\S]*?<strong>(\d{6})</strong>`).FindStringSubmatch(body)
		if st != 200 || code == nil {
			t.Fatalf("demo code: %d %s", st, body)
		}
		if st, loc, _ := c.post("/identify/code", "code", code[1]); st != 303 || !strings.HasSuffix(loc, "/me") {
			t.Fatalf("the code shown on screen does not sign in: %d %s", st, loc)
		}
	})
}
