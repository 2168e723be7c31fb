package desk_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/cases"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge/knowledgetest"
)

// ---- Knowledge helpers ----

func ptr(s string) *string { return &s }

// publishArticle creates an article and publishes its first version.
func publishArticle(t *testing.T, s *app.Services, slug, title, body, audience string) id.ID {
	t.Helper()
	return knowledgetest.PublishArticle(t, s.Knowledge, slug, title, body, "", knowledge.Audience(audience)).ID
}

// publishFact creates a fact with a published first version.
func publishFact(t *testing.T, s *app.Services, name, value string) id.ID {
	t.Helper()
	f, _ := knowledgetest.SetFact(t, s.Knowledge, name, value)
	return f
}

// newFactVersion publishes a new value of a fact and returns its version.
func newFactVersion(t *testing.T, s *app.Services, factID id.ID, value string) int {
	t.Helper()
	f, err := s.Knowledge.Fact(context.Background(), factID)
	if err != nil {
		t.Fatal(err)
	}
	_, v := knowledgetest.SetFact(t, s.Knowledge, f.Name, value)
	return v
}

// insertButton is one "Insert" button of the assist panel, as the page drew it.
type insertButton struct{ Label, Text, Plain, Cite string }

func assistPanel(t *testing.T, body string) (panelText string, buttons []insertButton) {
	t.Helper()
	walk(parse(t, body), func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if idv, _ := attr(n, "id"); idv == "assist" {
			panelText = textOf(n)
		}
		if _, ok := attr(n, "data-insert"); ok {
			var b insertButton
			b.Label, _ = attr(n, "aria-label")
			b.Text, _ = attr(n, "data-text")
			b.Plain, _ = attr(n, "data-plain")
			b.Cite, _ = attr(n, "data-refs")
			buttons = append(buttons, b)
		}
	})
	return panelText, buttons
}

// ---- Tests ----

func TestKnowledgeRoutesAreRegistered(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		b := e.signIn(e.user(access.Supervisor, "Sam Supervisor"))
		for _, p := range []string{"/knowledge", "/knowledge/gaps", "/knowledge/consistency", "/knowledge/articles/new", "/knowledge/facts/new"} {
			if res := b.get(p); res.status != http.StatusOK {
				t.Errorf("GET %s: %d", p, res.status)
			}
		}
	})
}

func TestAssistNeverShowsDrafts(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture() // the case is "Where is my order?" / "It has not arrived."
		ctx := e.ctx
		publishArticle(t, e.s, "order-tracking", "Tracking your order", "Orders arrive in {{fact \"delivery.time\"}}.", "agents")
		publishFact(t, e.s, "delivery.time", "3 to 5 working days")
		// A draft article on the same words, and a draft of a new fact value.
		if _, err := e.s.Knowledge.CreateArticle(ctx, knowledge.ArticleSpec{Slug: ptr("order-secret"), Title: ptr("Unpublished order secret"),
			Body: ptr("Draft text about an order that has not arrived"), Audience: ptr("public")}, "Kim"); err != nil {
			t.Fatal(err)
		}
		facts, _, _ := e.s.Knowledge.ListFacts(ctx, knowledge.FactFilter{Prefix: "delivery.time"})
		if _, err := e.s.Knowledge.NewFactDraft(ctx, facts[0].ID, knowledge.FactSpec{Value: ptr("DRAFT VALUE 1 day")}, "Kim"); err != nil {
			t.Fatal(err)
		}
		b := e.signIn(e.user(access.Agent, "Ann Agent"))
		res := b.get("/cases/" + f.caseID.String())
		if res.status != http.StatusOK {
			t.Fatalf("case page: %d", res.status)
		}
		panel, buttons := assistPanel(t, res.body)
		if !strings.Contains(panel, "Tracking your order") {
			t.Errorf("the published article is not suggested: %q", panel)
		}
		if strings.Contains(res.body, "Unpublished order secret") || strings.Contains(res.body, "Draft text") || strings.Contains(res.body, "DRAFT VALUE") {
			t.Errorf("a draft shows on the case page:\n%s", panel)
		}
		for _, bt := range buttons {
			if strings.Contains(bt.Text, "DRAFT") || strings.Contains(bt.Text, "[missing fact") {
				t.Errorf("insert text %q", bt.Text)
			}
		}
		if len(buttons) == 0 || !strings.Contains(buttons[0].Text, "3 to 5 working days") {
			t.Errorf("the article's insert text does not carry the fact's value: %+v", buttons)
		}
	})
}

func TestInsertedAnswerIsCitedWithItsVersions(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		ctx := e.ctx
		artID := publishArticle(t, e.s, "late-orders", "When an order has not arrived", "Orders arrive in {{fact \"delivery.time\"}}.", "public")
		factID := publishFact(t, e.s, "delivery.time", "3 to 5 working days")
		b := e.signIn(e.user(access.Agent, "Ann Agent"))
		page := b.get("/cases/" + f.caseID.String())
		_, buttons := assistPanel(t, page.body)
		var art *insertButton
		for i := range buttons {
			if strings.Contains(buttons[i].Label, "When an order has not arrived") {
				art = &buttons[i]
			}
		}
		if art == nil {
			t.Fatalf("no insert button for the article: %+v", buttons)
		}
		// What the composer sends after "Insert": the text and its cites.
		form := formValues(t, page.body, "/cases/"+f.caseID.String()+"/reply")
		form.Set("contact_point_id", f.email.String())
		form.Set("body", "Hello Ann,\n\n"+art.Text)
		form.Add("cite", art.Cite)
		if res := b.post("/cases/"+f.caseID.String()+"/reply", form); res.status != http.StatusSeeOther {
			t.Fatalf("reply: %d %s", res.status, res.body)
		}
		tl, err := e.s.Interactions.CaseTimeline(ctx, f.caseID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var reply *interaction.Interaction
		for _, it := range tl.Items {
			if it.Direction == interaction.Outbound {
				reply = it
			}
		}
		if reply == nil || !strings.Contains(reply.Content, "3 to 5 working days") {
			t.Fatalf("the reply was not recorded with the fact's value: %+v", reply)
		}
		cites, err := e.s.Knowledge.Citations(ctx, reply.ID)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, c := range cites {
			got[c.Kind+":"+c.TargetID.String()] = c.Version
		}
		if len(cites) != 2 || got["article:"+artID.String()] != 1 || got["fact:"+factID.String()] != 1 {
			t.Errorf("citations %+v, want article v1 and fact v1", cites)
		}

		// The fact changes: the panel now offers (and cites) version 2, and
		// the fact page lists the customer who was given version 1.
		if v := newFactVersion(t, e.s, factID, "2 working days"); v != 2 {
			t.Fatalf("new version %d", v)
		}
		_, buttons = assistPanel(t, b.get("/cases/"+f.caseID.String()).body)
		found := false
		for _, bt := range buttons {
			if strings.Contains(bt.Cite, "fact:"+factID.String()+":2") && strings.Contains(bt.Text, "2 working days") {
				found = true
			}
			if strings.Contains(bt.Cite, "fact:"+factID.String()+":1") {
				t.Errorf("the panel still cites the old fact version: %+v", bt)
			}
		}
		if !found {
			t.Errorf("no suggestion cites fact version 2: %+v", buttons)
		}
		sup := e.signIn(e.user(access.Supervisor, "Sam Supervisor"))
		fp := sup.get("/knowledge/facts/" + factID.String())
		if fp.status != http.StatusOK || !strings.Contains(fp.body, "/cases/"+f.caseID.String()) {
			t.Fatalf("fact page does not list the case given version 1: %d", fp.status)
		}
		if res := sup.post("/knowledge/facts/"+factID.String()+"/corrections", url.Values{"days": {"30"}}); res.status != http.StatusSeeOther {
			t.Fatalf("corrections: %d %s", res.status, res.body)
		}
		// Pressed again, the button adds nothing: the case has its note.
		if res := sup.post("/knowledge/facts/"+factID.String()+"/corrections", url.Values{"days": {"30"}}); res.status != http.StatusSeeOther {
			t.Fatalf("corrections again: %d %s", res.status, res.body)
		}
		notes, _ := e.s.Cases.Notes(ctx, f.caseID)
		if len(notes) != 1 || !strings.Contains(notes[0].Body, "delivery.time version 1") || !strings.Contains(notes[0].Body, "2 working days") {
			t.Errorf("correction notes: %+v", notes)
		}
		rep := sup.get("/knowledge/consistency")
		if rep.status != http.StatusOK {
			t.Errorf("consistency report: %d", rep.status)
		}

		// A forged cite of a draft is refused, and nothing is recorded.
		draft, err := e.s.Knowledge.NewFactDraft(ctx, factID, knowledge.FactSpec{Value: ptr("draft")}, "Kim")
		if err != nil {
			t.Fatal(err)
		}
		form.Set("idempotency_key", "another-reply")
		form["cite"] = []string{"fact:" + factID.String() + ":" + strconv.Itoa(draft.Version)}
		if res := b.post("/cases/"+f.caseID.String()+"/reply", form); res.status != http.StatusUnprocessableEntity {
			t.Errorf("reply citing a draft: %d, want 422", res.status)
		}
		if tl2, _ := e.s.Interactions.CaseTimeline(ctx, f.caseID, "", 10); len(tl2.Items) != len(tl.Items) {
			t.Errorf("a reply with a refused citation was recorded")
		}

		// A reply with the new version: the question now has two answers in
		// the period, and the consistency report names who got the old one.
		form.Set("idempotency_key", "reply-with-v2")
		form["cite"] = []string{"fact:" + factID.String() + ":2"}
		if res := b.post("/cases/"+f.caseID.String()+"/reply", form); res.status != http.StatusSeeOther {
			t.Fatalf("reply citing version 2: %d %s", res.status, res.body)
		}
		c, err := e.s.Cases.Get(ctx, f.caseID)
		if err != nil {
			t.Fatal(err)
		}
		rep = sup.get("/knowledge/consistency")
		if rep.status != http.StatusOK || !strings.Contains(rep.body, "1 customer was given an outdated version") ||
			!strings.Contains(rep.body, `<a href="/customers/`+c.CustomerID.String()+`">`) {
			t.Errorf("the consistency report does not name the customer given version 1: %d\n%s", rep.status, rep.body)
		}
	})
}

func TestKnowledgeEditorFlow(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		agent := e.signIn(e.user(access.Agent, "Ann Agent"))
		res := agent.post("/knowledge/articles", url.Values{"slug": {"returns"}, "locale": {"en"}, "title": {"Returns"},
			"body": {"Return within 30 days."}, "category": {"Orders"}, "audience": {"public"}, "action": {"save"}})
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/knowledge/articles/") {
			t.Fatalf("create: %d %q %s", res.status, res.location, res.body)
		}
		path := res.location
		if res := agent.post(path+"/versions/1/submit", nil); res.status != http.StatusSeeOther {
			t.Fatalf("submit: %d", res.status)
		}
		// An agent may not publish.
		if res := agent.post(path+"/versions/1/publish", nil); res.status != http.StatusForbidden {
			t.Errorf("agent publish: %d", res.status)
		}
		sup := e.signIn(e.user(access.Supervisor, "Sam Supervisor"))
		if res := sup.post(path+"/versions/1/publish", nil); res.status != http.StatusSeeOther {
			t.Fatalf("publish: %d %s", res.status, res.body)
		}
		if res := agent.post(path, url.Values{"version": {"0"}, "title": {"Returns"}, "body": {"Return within 60 days."}, "audience": {"public"}, "action": {"save"}}); res.status != http.StatusSeeOther {
			t.Fatalf("new draft: %d %s", res.status, res.body)
		}
		d := agent.get(path + "/diff?from=1&to=2")
		if d.status != http.StatusOK || !strings.Contains(d.body, "- Return within 30 days.") || !strings.Contains(d.body, "+ Return within 60 days.") {
			t.Errorf("diff page: %d\n%s", d.status, d.body)
		}
		page := agent.get(path)
		if !strings.Contains(page.body, "Sam Supervisor") || !strings.Contains(page.body, "submitted version 1") {
			t.Errorf("history does not say who did what")
		}
		list := agent.get("/knowledge?status=draft")
		if !strings.Contains(list.body, "Returns") {
			t.Errorf("status filter lost the article with a draft")
		}
		if list := agent.get("/knowledge?status=in_review"); strings.Contains(list.body, ">Returns<") {
			t.Errorf("in-review filter lists the article with a draft")
		}
		// A search that finds nothing on the help center shows as a gap.
		if _, err := e.s.Knowledge.Search(e.ctx, knowledge.Query{Text: "warranty claims", Audience: knowledge.Public}); err != nil {
			t.Fatal(err)
		}
		if g := agent.get("/knowledge/gaps"); !strings.Contains(g.body, "warranty claims") {
			t.Errorf("gap not listed")
		}
	})
}

func TestHostileMarkdownIsInert(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		body := "Your order has not arrived?\n\n" + strings.Join(payloads, "\n\n") +
			"\n\n[click](javascript:alert(1)) ![x](javascript:alert(2)) <div onclick=alert(3)>order</div>"
		artID := publishArticle(t, e.s, "evil-order", `Order <script>alert(1)</script>`, body, "agents")
		publishFact(t, e.s, "order.evil", `<img src=x onerror=alert(1)>`)
		sup := e.signIn(e.user(access.Supervisor, "Sam Supervisor"))
		pages := map[string]string{}
		pages["article"] = sup.get("/knowledge/articles/" + artID.String()).body
		pages["preview"] = sup.post("/knowledge/articles/"+artID.String(), url.Values{"version": {"0"}, "title": {"x"}, "body": {body}, "audience": {"public"}, "action": {"preview"}}).body
		pages["new preview"] = sup.post("/knowledge/articles", url.Values{"slug": {"x"}, "locale": {"en"}, "title": {"x"}, "body": {body}, "audience": {"public"}, "action": {"preview"}}).body
		pages["list"] = sup.get("/knowledge?q=order").body
		casePage := sup.get("/cases/" + f.caseID.String()).body
		pages["case"] = casePage
		for name, p := range pages {
			if probs := scriptProblems(parse(t, p)); len(probs) > 0 {
				t.Errorf("%s page has live markup: %v", name, probs)
			}
		}
		if !strings.Contains(pages["preview"], `id="kb-preview"`) {
			t.Errorf("the preview was not shown")
		}
		if panel, _ := assistPanel(t, casePage); !strings.Contains(panel, "Order <script>") {
			t.Errorf("the hostile article is not in the panel as text: %q", panel)
		}
	})
}

// TestBrowserAssistInsertAndCite: an agent opens a case, sees a suggested
// article, inserts it, sends the reply, and the citation is recorded.
func TestBrowserAssistInsertAndCite(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	artID := publishArticle(t, w.s, "dented-washer-door", "Dented washer door on delivery",
		"We replace a dented door free of charge within {{fact \"repair.time\"}}.", "agents")
	factID := publishFact(t, w.s, "repair.time", "5 working days")
	b := openBrowser(t, chrome, "agent")
	b.signIn(w, w.agentA)
	b.openCase(w, w.caseID)
	b.within(browserStep, "the suggested article", textIn("#assist", "Dented washer door on delivery"))
	b.do("choose email and insert the article",
		chromedp.SetValue(chromedp.ID("reply-channel"), w.cps["email"].String()),
		chromedp.Click(chromedp.CSS(`#assist li.assist-article button[data-insert]`)),
	)
	if v := evalIn[string](b, "read the composer", `document.getElementById("reply-body").value`); !strings.Contains(v, "5 working days") {
		t.Fatalf("the composer holds %q, want the article with the fact filled in", v)
	}
	// The customer writes about something else: the suggestions follow the
	// conversation without a reload, and their Insert buttons work.
	publishArticle(t, w.s, "installation-booking", "Booking an installation", "Installation is booked by phone.", "public")
	w.record(t, interaction.Input{Kind: "email", ContactPointID: w.cps["email"], Direction: "inbound", OccurredAt: time.Now().UTC(),
		Identifiers: []customer.RawIdentifier{{Kind: "email", Value: w.customerEmail}},
		Subject:     "Installation", Content: "<p>Can you also book the installation?</p>"})
	b.within(browserStep, "the new suggestion", textIn("#assist", "Booking an installation"))
	b.do("insert the new suggestion", chromedp.Evaluate[chromedp.Void](
		`[...document.querySelectorAll("#assist li")].find(li => li.textContent.includes("Booking an installation")).querySelector("button[data-insert]").click()`))
	if v := evalIn[string](b, "read the composer", `document.getElementById("reply-body").value`); !strings.Contains(v, "Installation is booked by phone.") {
		t.Fatalf("the composer holds %q, want the new suggestion too", v)
	}
	b.load("send the reply", chromedp.Click(chromedp.CSS(`#reply-form button[type="submit"]`)))
	b.noScriptErrors()

	tl, err := w.s.Interactions.CaseTimeline(t.Context(), w.caseID, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var reply *interaction.Interaction
	for _, it := range tl.Items {
		if it.Direction == interaction.Outbound && strings.Contains(it.Content, "5 working days") {
			reply = it
		}
	}
	if reply == nil {
		t.Fatal("the reply is not recorded")
	}
	// Cited in the reply's own transaction: there once the page is back.
	cites, err := w.s.Knowledge.Citations(t.Context(), reply.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range cites {
		got[c.Kind+":"+c.TargetID.String()] = c.Version
	}
	if got["article:"+artID.String()] != 1 || got["fact:"+factID.String()] != 1 {
		t.Errorf("citations of the reply: %+v, want the article and the fact at version 1", cites)
	}
}

// TestCannedResponsesFillFactsPerChannel: a canned response's facts are
// filled in, in Markdown for email and in plain text for SMS, with the
// fact's version to cite.
func TestCannedResponsesFillFactsPerChannel(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		f := e.fixture()
		factID := publishFact(t, e.s, "shipping.fee", "$4.95")
		admin := e.user(access.Admin, "Ada Admin")
		if _, err := e.s.Cases.SaveCanned(e.ctx, cases.Actor{UserID: admin.ID, Name: admin.Name}, cases.Canned{Name: "Shipping",
			Body: "Hi {{customer.first_name}}, shipping costs **{{fact \"shipping.fee\"}}** ({{fact \"no.such\"}})."}); err != nil {
			t.Fatal(err)
		}
		page := e.signIn(e.user(access.Agent, "Ann Agent")).get("/cases/" + f.caseID.String())
		var rich, plain, refs string
		walk(parse(t, page.body), func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "option" && textOf(n) == "Shipping" {
				rich, _ = attr(n, "value")
				plain, _ = attr(n, "data-plain")
				refs, _ = attr(n, "data-refs")
			}
		})
		if rich != "Hi Ann, shipping costs **$4.95** ([missing fact: no.such])." {
			t.Errorf("email form %q", rich)
		}
		if plain != "Hi Ann, shipping costs $4.95 ([missing fact: no.such])." {
			t.Errorf("SMS form %q", plain)
		}
		if refs != "fact:"+factID.String()+":1" {
			t.Errorf("refs %q", refs)
		}
	})
}
