package chat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/channel/webchat"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/web/chat"
	"github.com/touchpoint-hub/touchpoint/internal/web/ratelimit"
)

const shop = "https://shop.example"

// world is a node with one web chat allowed on shop, served by its own mux.
type world struct {
	t      *testing.T
	s      *app.Services
	srv    *httptest.Server
	cp     id.ID
	secret string
}

func newWorld(t *testing.T, db *store.DB, h func(*chat.Handler)) *world {
	t.Helper()
	s := app.NewServicesWith(db, "US", bus.NewLocal(), slog.New(slog.DiscardHandler))
	t.Cleanup(func() { s.Routing.Close(); s.Bus.Close() })
	kind := contactpoint.Kind("web_chat")
	name := "Web chat"
	cp, err := s.ContactPoints.Create(t.Context(), contactpoint.Spec{Kind: &kind, Name: &name,
		Settings: json.RawMessage(`{"allowed_origins": ["` + shop + `"], "greeting": "Hello <b>there</b>"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cp.WidgetSecret, "ws_") {
		t.Fatalf("a new web chat has widget secret %q", cp.WidgetSecret)
	}
	handler := &chat.Handler{Log: slog.New(slog.DiscardHandler), Chat: s.WebChat, Bus: s.Bus}
	if h != nil {
		h(handler)
	}
	mux := http.NewServeMux()
	handler.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &world{t: t, s: s, srv: srv, cp: cp.ID, secret: cp.WidgetSecret}
}

type answer struct {
	code   int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends a chat request from a page of origin (none when "").
func (w *world) call(method, path, origin, token string, body any) answer {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+"/chat/v1/points/"+w.cp.String()+path, rd)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, header: resp.Header}
	a.raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(a.raw, &a.body)
	return a
}

func (w *world) want(a answer, code int, what string) {
	w.t.Helper()
	if a.code != code {
		w.t.Fatalf("%s: status %d, want %d: %s", what, a.code, code, a.raw)
	}
}

func (w *world) start(who map[string]any) string {
	w.t.Helper()
	a := w.call("POST", "/conversations", shop, "", who)
	w.want(a, 201, "start a chat")
	tok, _ := a.body["token"].(string)
	if !strings.HasPrefix(tok, "wct_") {
		w.t.Fatalf("start gave token %q", tok)
	}
	return tok
}

func (w *world) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.s.DB.QueryRow(w.t.Context(), q, args...).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestOrigins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		a := w.call("GET", "/config", shop, "", nil)
		w.want(a, 200, "config from the shop")
		if got := a.header.Get("Access-Control-Allow-Origin"); got != shop {
			t.Errorf("Access-Control-Allow-Origin %q, want %q", got, shop)
		}
		if a.body["greeting"] != "Hello <b>there</b>" || a.body["title"] != "Web chat" {
			t.Errorf("config %s", a.raw)
		}
		for _, origin := range []string{"https://evil.example", "", "null", "https://shop.example.evil.example"} {
			a := w.call("GET", "/config", origin, "", nil)
			w.want(a, 403, "config from "+origin)
			if a.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("refused origin %q got CORS headers", origin)
			}
			if a.header.Get("Content-Type") != "application/problem+json" || a.body["field"] != "Origin" {
				t.Errorf("refusal of %q: %s %s", origin, a.header.Get("Content-Type"), a.raw)
			}
			w.want(w.call("POST", "/conversations", origin, "", map[string]any{}), 403, "start from "+origin)
		}
		// Pages this server serves itself (the help center's chat page)
		// need no allowed origin; a look-alike host does.
		own := w.call("GET", "/config", w.srv.URL, "", nil)
		w.want(own, 200, "config from the server's own page")
		if got := own.header.Get("Access-Control-Allow-Origin"); got != w.srv.URL {
			t.Errorf("own page: Access-Control-Allow-Origin %q", got)
		}
		w.want(w.call("GET", "/config", strings.Replace(w.srv.URL, "127.0.0.1", "127.0.0.1.evil.example", 1), "", nil), 403, "config from a look-alike host")
		// A GET to the page's own origin carries no Origin: the browser says same-origin.
		req, _ := http.NewRequest("GET", w.srv.URL+"/chat/v1/points/"+w.cp.String()+"/config", nil)
		for site, want := range map[string]int{"same-origin": 200, "cross-site": 403, "": 403} {
			if site != "" {
				req.Header.Set("Sec-Fetch-Site", site)
			} else {
				req.Header.Del("Sec-Fetch-Site")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("config without Origin, Sec-Fetch-Site %q: %d, want %d", site, resp.StatusCode, want)
			}
		}
		a = w.call("OPTIONS", "/messages", shop, "", nil)
		w.want(a, 204, "preflight from the shop")
		if !strings.Contains(a.header.Get("Access-Control-Allow-Headers"), "Authorization") || a.header.Get("Access-Control-Allow-Origin") != shop {
			t.Errorf("preflight headers %v", a.header)
		}
		w.want(w.call("OPTIONS", "/messages", "https://evil.example", "", nil), 403, "preflight from elsewhere")
		// A contact point that is not a web chat has no chat.
		kind, name := contactpoint.Kind("phone"), "Line"
		phone, err := w.s.ContactPoints.Create(t.Context(), contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		if phone.WidgetSecret != "" {
			t.Error("a phone line got a widget secret")
		}
		req, _ = http.NewRequest("GET", w.srv.URL+"/chat/v1/points/"+phone.ID.String()+"/config", nil)
		req.Header.Set("Origin", shop)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("the phone line's chat config answered %d", resp.StatusCode)
		}
	})
}

func TestUserHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		good := webchat.UserHash("user-42", w.secret)
		for _, c := range []struct {
			who   map[string]any
			field string
		}{
			{map[string]any{"user_id": "user-42", "user_hash": webchat.UserHash("user-43", w.secret)}, "user_hash"},
			{map[string]any{"user_id": "user-42", "user_hash": webchat.UserHash("user-42", "ws_guessed")}, "user_hash"},
			{map[string]any{"user_id": "user-42", "user_hash": "zz"}, "user_hash"},
			{map[string]any{"user_id": "user-42"}, "user_hash"},
			{map[string]any{"user_hash": good}, "user_id"},
			{map[string]any{"email": "not an address"}, "email"},
			{map[string]any{"nickname": "x"}, "nickname"},
		} {
			a := w.call("POST", "/conversations", shop, "", c.who)
			w.want(a, 422, "start as "+string(mustJSON(c.who)))
			if a.body["field"] != c.field {
				t.Errorf("start as %s: field %v, want %s", mustJSON(c.who), a.body["field"], c.field)
			}
		}
		if n := w.count("SELECT COUNT(*) FROM webchat_conversations"); n != 0 {
			t.Fatalf("refused starts stored %d conversations", n)
		}
		tok := w.start(map[string]any{"user_id": "user-42", "user_hash": good, "name": "Ann Lee"})
		a := w.call("POST", "/messages", shop, tok, map[string]any{"id": "m1", "text": "Where is my order?"})
		w.want(a, 201, "first message")
		// The verified id is on the customer; a later sign-in as someone
		// else is refused.
		found, err := w.s.Customers.FindByIdentifier(t.Context(), "user_id:user-42")
		if err != nil || len(found) != 1 || found[0].Name != "Ann Lee" {
			t.Fatalf("customer by user id: %v %+v", err, found)
		}
		other := webchat.UserHash("user-7", w.secret)
		w.want(w.call("PATCH", "/conversation", shop, tok, map[string]any{"user_id": "user-7", "user_hash": other}), 409, "switch user")
		// Rotating gives a new secret, which is never shown again.
		key, err := w.s.ContactPoints.RotateWidgetSecret(t.Context(), w.cp)
		if err != nil || key == w.secret || !strings.HasPrefix(key, "ws_") {
			t.Fatalf("rotate: %q %v", key, err)
		}
		cp, err := w.s.ContactPoints.Get(t.Context(), w.cp)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(cp); bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte(w.secret)) {
			t.Errorf("the contact point shows its widget secret: %s", b)
		}
	})
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestMessagesRetriesHistoryAndReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		// A chat queue and an available agent: the message is routed.
		q, err := w.s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{"chat"}}})
		if err != nil {
			t.Fatal(err)
		}
		agent, err := w.s.Access.CreateUser(ctx, "priya@example.com", "Priya Raman", access.Agent, "password-123", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Routing.SetAgentProfile(ctx, agent.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{"chat": 2}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.Routing.SetPresence(ctx, agent.ID, engine.Available, ""); err != nil {
			t.Fatal(err)
		}
		tok := w.start(map[string]any{"name": "Ann Lee", "email": "Ann@Example.com"})
		w.want(w.call("GET", "/messages", shop, "", nil), 401, "history without a token")
		w.want(w.call("GET", "/messages", shop, "wct_nothing", nil), 401, "history with a made-up token")
		a := w.call("GET", "/messages", shop, tok, nil)
		w.want(a, 200, "empty history")
		if items := a.body["items"].([]any); len(items) != 0 {
			t.Fatalf("a new chat has history %s", a.raw)
		}

		first := w.call("POST", "/messages", shop, tok, map[string]any{"id": "msg-1", "text": "  My <script>alert(1)</script> kettle leaks  "})
		w.want(first, 201, "first message")
		if first.body["agents_available"] != true {
			t.Errorf("with an agent available the answer says %s", first.raw)
		}
		again := w.call("POST", "/messages", shop, tok, map[string]any{"id": "msg-1", "text": "My <script>alert(1)</script> kettle leaks"})
		w.want(again, 200, "the same message again")
		m1 := first.body["message"].(map[string]any)
		if at, _ := time.Parse(time.RFC3339Nano, m1["at"].(string)); time.Since(at) > time.Hour {
			t.Errorf("the message's time is %v", m1["at"])
		}
		if m2 := again.body["message"].(map[string]any); m2["id"] != m1["id"] || again.body["duplicate"] != true {
			t.Fatalf("a retried message answered %s, first %s", again.raw, first.raw)
		}
		src := "webchat:" + w.cp.String()
		if n := w.count("SELECT COUNT(*) FROM interactions WHERE source = ?", src); n != 1 {
			t.Fatalf("%d interactions stored for one message sent twice", n)
		}
		w.want(w.call("POST", "/messages", shop, tok, map[string]any{"id": "msg-2", "text": "It is the blue one."}), 201, "second message")
		for _, bad := range []struct {
			body  any
			field string
		}{
			{map[string]any{"id": "msg-3", "text": "   "}, "text"},
			{map[string]any{"id": "", "text": "hi"}, "id"},
			{map[string]any{"id": "a b", "text": "hi"}, "id"},
			{map[string]any{"id": "msg-4", "text": strings.Repeat("x", webchat.MaxText+1)}, "text"},
			{map[string]any{"id": "msg-5", "text": 5}, "text"},
		} {
			a := w.call("POST", "/messages", shop, tok, bad.body)
			w.want(a, 422, "bad message "+bad.field)
			if a.body["field"] != bad.field {
				t.Errorf("bad message: field %v, want %s (%s)", a.body["field"], bad.field, a.raw)
			}
		}
		w.want(w.call("POST", "/messages", shop, tok, `{"id":"x","text":"`+strings.Repeat("y", 70<<10)+`"}`), 413, "a huge body")

		// The message is an inbound chat on a case, routed to the queue.
		var caseID, custID id.ID
		var kind, dir string
		err = db.QueryRow(ctx, "SELECT case_id, customer_id, kind, direction FROM interactions WHERE source = ? AND external_id LIKE ?",
			src, "%:msg-1").Scan(&caseID, &custID, &kind, &dir)
		if err != nil || caseID == 0 || kind != "chat" || dir != "inbound" {
			t.Fatalf("the stored message: case %v kind %q direction %q err %v", caseID, kind, dir, err)
		}
		items, err := w.s.Routing.ListItems(ctx, routing.ItemQuery{QueueID: q.ID})
		if err != nil || len(items) == 0 || items[0].CaseID != caseID {
			t.Fatalf("routing items %+v (err %v), want one for case %s", items, err, caseID)
		}
		if found, _ := w.s.Customers.FindByIdentifier(ctx, "email:ann@example.com"); len(found) != 1 || found[0].ID != custID && !contains(found[0].MergedIDs, custID) {
			t.Fatalf("the form's email does not name the customer: %+v", found)
		}

		// The desk replies on the case; the visitor reads it in the history.
		res, err := w.s.Cases.Reply(ctx, cases.Actor{UserID: agent.ID, Name: agent.Name}, caseID, cases.Reply{Body: "Hi Ann, a new kettle is on its way."})
		if err != nil {
			t.Fatal(err)
		}
		a = w.call("GET", "/messages", shop, tok, nil)
		w.want(a, 200, "history")
		var h struct {
			Items []webchat.Message `json:"items"`
		}
		json.Unmarshal(a.raw, &h)
		if len(h.Items) != 3 || h.Items[0].ClientID != "msg-1" || h.Items[0].Text != "My <script>alert(1)</script> kettle leaks" ||
			h.Items[1].ClientID != "msg-2" || h.Items[2].From != "agent" || h.Items[2].ID != res.ID || h.Items[2].Author != "Priya" {
			t.Fatalf("history %s", a.raw)
		}
		// Another visitor of the same contact point sees none of it.
		other := w.start(nil)
		if a := w.call("GET", "/messages", shop, other, nil); len(a.body["items"].([]any)) != 0 {
			t.Fatalf("another visitor sees %s", a.raw)
		}
		// The widget says it showed the reply.
		w.want(w.call("POST", "/delivered", shop, tok, map[string]any{"ids": []string{res.ID.String()}}), 204, "delivered")
		var status string
		db.QueryRow(ctx, "SELECT delivery_status FROM interactions WHERE id = ?", res.ID).Scan(&status)
		if status != webchat.StatusDelivered {
			t.Errorf("the reply's delivery status is %q", status)
		}
	})
}

func contains(ids []id.ID, v id.ID) bool {
	for _, x := range ids {
		if x == v {
			return true
		}
	}
	return false
}

func TestRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, func(h *chat.Handler) {
			h.PerVisitor = ratelimit.New(0.001, 3)
			h.Starts = ratelimit.New(0.001, 2)
		})
		tok := w.start(nil)
		for i := range 3 {
			w.want(w.call("POST", "/messages", shop, tok, map[string]any{"id": "m" + string(rune('a'+i)), "text": "hello"}), 201, "a message within the limit")
		}
		a := w.call("POST", "/messages", shop, tok, map[string]any{"id": "mz", "text": "hello"})
		w.want(a, 429, "a message over the limit")
		if a.header.Get("Retry-After") == "" || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("429 without Retry-After or problem: %v", a.header)
		}
		// Another visitor has their own allowance; new chats per address are limited too.
		other := w.start(nil)
		w.want(w.call("POST", "/messages", shop, other, map[string]any{"id": "m1", "text": "hello"}), 201, "another visitor")
		w.want(w.call("POST", "/conversations", shop, "", map[string]any{}), 429, "a third chat from one address")
	})
}

func TestNoAgentTakesEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx := t.Context()
		a := w.call("GET", "/config", shop, "", nil)
		if a.body["agents_available"] != false {
			t.Fatalf("with no agent the config says %s", a.raw)
		}
		tok := w.start(nil)
		a = w.call("POST", "/messages", shop, tok, map[string]any{"id": "m1", "text": "Anyone there?"})
		w.want(a, 201, "a message while nobody is there")
		if a.body["agents_available"] != false {
			t.Errorf("the answer says %s", a.raw)
		}
		w.want(w.call("PATCH", "/conversation", shop, tok, map[string]any{"answer_by_email": true}), 422, "answer by email without one")
		a = w.call("PATCH", "/conversation", shop, tok, map[string]any{"email": "bo@example.com", "answer_by_email": true})
		w.want(a, 200, "leave an email")
		found, err := w.s.Customers.FindByIdentifier(ctx, "email:bo@example.com")
		if err != nil || len(found) != 1 {
			t.Fatalf("the email is on no customer: %v %+v", err, found)
		}
		if found[0].Consent["email"].Status != "opted_in" {
			t.Errorf("consent to email %+v", found[0].Consent)
		}
		var onCase int
		onCase = w.count("SELECT COUNT(*) FROM interactions WHERE source = ? AND case_id IS NOT NULL", "webchat:"+w.cp.String())
		if onCase != 1 {
			t.Errorf("the message is on %d cases", onCase)
		}
	})
}

// TestStream: the stream sends the history on connect and a desk reply as
// it is recorded, and marks it sent.
func TestStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		tok := w.start(nil)
		w.want(w.call("POST", "/messages", shop, tok, map[string]any{"id": "m1", "text": "Hello?"}), 201, "message")
		req, _ := http.NewRequestWithContext(ctx, "GET", w.srv.URL+"/chat/v1/points/"+w.cp.String()+"/events?token="+tok, nil)
		req.Header.Set("Origin", shop)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != shop {
			t.Fatalf("stream: %d %v", resp.StatusCode, resp.Header)
		}
		msgs := make(chan webchat.Message, 10)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					var m webchat.Message
					if json.Unmarshal([]byte(d), &m) == nil && m.ID != 0 {
						msgs <- m
					}
				}
			}
			close(msgs)
		}()
		next := func(what string) webchat.Message {
			t.Helper()
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("%s: the stream ended", what)
				}
				return m
			case <-ctx.Done():
				t.Fatalf("%s: nothing came", what)
			}
			return webchat.Message{}
		}
		if m := next("the history"); m.ClientID != "m1" || m.From != "visitor" {
			t.Fatalf("first event %+v", m)
		}
		var caseID id.ID
		if err := db.QueryRow(ctx, "SELECT case_id FROM interactions WHERE external_id LIKE ?", "%:m1").Scan(&caseID); err != nil {
			t.Fatal(err)
		}
		res, err := w.s.Cases.Reply(ctx, cases.Actor{Name: "Sam Ortiz"}, caseID, cases.Reply{Body: "Yes, how can I help?"})
		if err != nil {
			t.Fatal(err)
		}
		m := next("the reply")
		if m.ID != res.ID || m.From != "agent" || m.Text != "Yes, how can I help?" || m.Author != "Sam" {
			t.Fatalf("reply event %+v", m)
		}
		// Marked sent once written; poll, the mark follows the write.
		for {
			var status string
			db.QueryRow(ctx, "SELECT delivery_status FROM interactions WHERE id = ?", res.ID).Scan(&status)
			if status == webchat.StatusSent {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the reply's status stayed %q", status)
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}
