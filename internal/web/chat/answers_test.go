package chat_test

import (
	"strings"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge/knowledgetest"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// The widget answers from the knowledge base: public articles only, facts
// filled in at the moment they are shown, and every article shown is
// recorded with the versions it cited, once per visitor and version.
func TestAnswers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, nil)
		kb := w.s.Knowledge
		factID, _ := knowledgetest.SetFact(t, kb, "shipping.fee", "€4.95 per order")
		public := knowledgetest.PublishArticle(t, kb, "shipping-charges", "Shipping charges",
			`Shipping costs {{fact "shipping.fee"}}.`, "Delivery", knowledge.Public)
		secret := knowledgetest.PublishArticle(t, kb, "goodwill-shipping", "Goodwill shipping refunds",
			"Agents may refund the shipping fee when a delivery is late.", "Delivery", knowledge.Agents)

		a := w.call("GET", "/answers?q="+strings.ReplaceAll("How much is shipping to Leeds?", " ", "+"), shop, "", nil)
		w.want(a, 200, "suggestions")
		items, _ := a.body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("suggestions for a shipping question: %s; want the public article only", a.raw)
		}
		if it := items[0].(map[string]any); it["article_id"] != public.ID.String() || it["title"] != "Shipping charges" ||
			!strings.Contains(it["snippet_html"].(string), "<mark>") {
			t.Errorf("suggestion %v", it)
		}
		a = w.call("GET", "/answers?q=the+and+to", shop, "", nil)
		w.want(a, 200, "suggestions for stop words")
		if items, _ := a.body["items"].([]any); items == nil || len(items) != 0 {
			t.Errorf("stop words found %s; want an empty list", a.raw)
		}
		w.want(w.call("GET", "/answers?q=shipping", "https://evil.example", "", nil), 403, "suggestions for another site")

		// Showing an article needs a visitor: the widget's id or a conversation.
		a = w.call("GET", "/answers/"+public.ID.String()+"?visitor=short", shop, "", nil)
		w.want(a, 422, "a bad visitor id")
		if a.body["field"] != "visitor" {
			t.Errorf("bad visitor id: %s; want the field named", a.raw)
		}
		const visitor = "v0123456789abcdef0123"
		w.want(w.call("GET", "/answers/"+secret.ID.String()+"?visitor="+visitor, shop, "", nil), 404, "an agents-only article")
		w.want(w.call("GET", "/answers/"+public.ID.String()+"?visitor="+visitor, shop, "wct_nope", nil), 401, "a bad token")

		show := func(token, want string) {
			t.Helper()
			q := ""
			if token == "" {
				q = "?visitor=" + visitor
			}
			a := w.call("GET", "/answers/"+public.ID.String()+q, shop, token, nil)
			w.want(a, 200, "show the article")
			if h, _ := a.body["html"].(string); !strings.Contains(h, want) || a.body["title"] != "Shipping charges" {
				t.Fatalf("article shown: %s; want %q in it", a.raw, want)
			}
		}
		cited := func(version int) int {
			t.Helper()
			return w.count(`SELECT COUNT(*) FROM kb_citations k JOIN interactions i ON i.id = k.interaction_id
				WHERE k.kind = 'fact' AND k.target_id = ? AND k.version = ? AND i.kind = 'page_view' AND i.contact_point_id = ?`, factID, version, w.cp)
		}
		show("", "€4.95 per order")
		show("", "€4.95 per order") // the same version again: recorded once
		if n := cited(1); n != 1 {
			t.Errorf("fact version 1 cited on %d chat views; want 1", n)
		}
		// The fact changes: the next view shows it and cites the new version.
		knowledgetest.SetFact(t, kb, "shipping.fee", "€4.95 per order; free from €50")
		show("", "free from €50")
		if n := cited(2); n != 1 {
			t.Errorf("fact version 2 cited on %d chat views; want 1", n)
		}
		// The visitor who read before writing gives the widget's id when the
		// chat starts: the reads and the chat are one customer, so the read
		// is not counted as deflected.
		w.want(w.call("POST", "/conversations", shop, "", map[string]any{"visitor_id": "bad id"}), 422, "a bad visitor id")
		vtok := w.start(map[string]any{"visitor_id": visitor})
		w.want(w.call("POST", "/messages", shop, vtok, map[string]any{"id": "m1", "text": "Is that for every order?"}), 201, "write after reading")
		if n := w.count(`SELECT COUNT(DISTINCT c.root_id) FROM interactions i JOIN customers c ON c.id = i.customer_id
			WHERE i.contact_point_id = ? AND i.kind IN ('page_view', 'chat') AND i.source = ?`, w.cp, "webchat:"+w.cp.String()); n != 1 {
			t.Errorf("the reads and the chat are %d customers; want one", n)
		}

		// In a conversation the view is on the conversation's customer.
		tok := w.start(map[string]any{"email": "ann@example.com"})
		show(tok, "free from €50")
		if n := w.count(`SELECT COUNT(*) FROM interactions i JOIN identifiers d ON d.customer_id = i.customer_id
			WHERE i.kind = 'page_view' AND d.kind = 'email' AND d.value = 'ann@example.com'`); n != 1 {
			t.Errorf("%d article views on the chatting customer; want 1", n)
		}
	})
}
