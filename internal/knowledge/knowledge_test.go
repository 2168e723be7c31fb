package knowledge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge/knowledgetest"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

const editor, publisher = "user:1:editor", "user:2:publisher"

func ptr[T any](v T) *T { return &v }

// publishArticle creates an article and publishes its first version.
func publishArticle(t testing.TB, kb *knowledge.Service, slug, title, body string, aud knowledge.Audience) *knowledge.Article {
	t.Helper()
	return knowledgetest.PublishArticleAs(t, kb, editor, publisher, slug, title, body, "help", aud)
}

// setFact creates or changes a fact and publishes the value.
func setFact(t testing.TB, kb *knowledge.Service, name, value string) (id.ID, int) {
	t.Helper()
	return knowledgetest.SetFactAs(t, kb, editor, publisher, name, value)
}

func TestArticleLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		a, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: ptr("returns"), Title: ptr("Returns"), Body: ptr("Return within 30 days.\nKeep the receipt."), Audience: ptr("public")}, editor)
		if err != nil {
			t.Fatal(err)
		}
		if a.Open == nil || a.Open.Status != knowledge.Draft || a.Published != nil || a.Locale != "en" {
			t.Fatalf("new article: %+v", a)
		}
		// Drafts are editable; publishing needs review first.
		if _, err := kb.UpdateArticleDraft(ctx, a.ID, 1, knowledge.ArticleSpec{Body: ptr("Return within 30 days.\nKeep the receipt.\nRefunds take 5 days.")}, editor); err != nil {
			t.Fatal(err)
		}
		if err := kb.PublishArticle(ctx, a.ID, 1, publisher); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("publishing a draft: %v, want conflict", err)
		}
		if err := kb.SubmitArticle(ctx, a.ID, 1, editor); err != nil {
			t.Fatal(err)
		}
		if _, err := kb.UpdateArticleDraft(ctx, a.ID, 1, knowledge.ArticleSpec{Title: ptr("x")}, editor); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("editing a version in review: %v, want conflict", err)
		}
		if err := kb.PublishArticle(ctx, a.ID, 1, publisher); err != nil {
			t.Fatal(err)
		}
		// Published is immutable.
		if _, err := kb.UpdateArticleDraft(ctx, a.ID, 1, knowledge.ArticleSpec{Title: ptr("Changed")}, editor); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("editing a published version: %v, want conflict", err)
		}
		// Version 2 starts from version 1; one open version at a time.
		v2, err := kb.NewArticleDraft(ctx, a.ID, knowledge.ArticleSpec{Body: ptr("Return within 60 days.\nKeep the receipt.\nRefunds take 5 days.")}, editor)
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || v2.Title != "Returns" || v2.Status != knowledge.Draft {
			t.Fatalf("version 2: %+v", v2)
		}
		if _, err := kb.NewArticleDraft(ctx, a.ID, knowledge.ArticleSpec{}, editor); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("a second open draft: %v, want conflict", err)
		}
		if err := kb.SubmitArticle(ctx, a.ID, 2, editor); err != nil {
			t.Fatal(err)
		}
		if err := kb.PublishArticle(ctx, a.ID, 2, publisher); err != nil {
			t.Fatal(err)
		}
		got, err := kb.Article(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Published == nil || got.Published.Version != 2 || got.Open != nil {
			t.Fatalf("after publishing 2: %+v", got)
		}
		v1, err := kb.ArticleVersion(ctx, a.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Status != knowledge.Superseded || v1.SupersededAt == nil || v1.PublishedBy != publisher {
			t.Fatalf("version 1 after 2 was published: %+v", v1)
		}
		vs, err := kb.ArticleVersions(ctx, a.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions: %v %+v", err, vs)
		}
		hist, err := kb.ArticleHistory(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range hist {
			actions = append(actions, e.Action+"@"+string(rune('0'+e.Version)))
		}
		want := "created@1 updated@1 submitted@1 published@1 created@2 submitted@2 superseded@1 published@2"
		if strings.Join(actions, " ") != want {
			t.Fatalf("history %q, want %q", strings.Join(actions, " "), want)
		}
		d, err := kb.DiffArticle(ctx, a.ID, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if u := knowledge.Unified(d.Lines); u != "-Return within 30 days.\n+Return within 60 days.\n Keep the receipt.\n Refunds take 5 days.\n" {
			t.Fatalf("diff:\n%s", u)
		}
		// Searching finds only the published version.
		hits, err := kb.Search(ctx, knowledge.Query{Text: "60 days"})
		if err != nil || len(hits) != 1 || hits[0].Version != 2 {
			t.Fatalf("search after republish: %v %+v", err, hits)
		}
		if hits, _ := kb.Search(ctx, knowledge.Query{Text: "30 days", NoGap: true}); len(hits) != 0 {
			t.Fatalf("the superseded text is still found: %+v", hits)
		}
	})
}

func TestValidationNamesTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		for _, c := range []struct {
			spec  knowledge.ArticleSpec
			field string
		}{
			{knowledge.ArticleSpec{Title: ptr("t"), Body: ptr("b"), Audience: ptr("public")}, "slug"},
			{knowledge.ArticleSpec{Slug: ptr("Bad Slug"), Title: ptr("t"), Body: ptr("b"), Audience: ptr("public")}, "slug"},
			{knowledge.ArticleSpec{Slug: ptr("ok"), Title: ptr(""), Body: ptr("b"), Audience: ptr("public")}, "title"},
			{knowledge.ArticleSpec{Slug: ptr("ok"), Title: ptr("t"), Body: ptr("b"), Audience: ptr("everyone")}, "audience"},
			{knowledge.ArticleSpec{Slug: ptr("ok"), Title: ptr("t"), Body: ptr("b")}, "audience"},
			{knowledge.ArticleSpec{Slug: ptr("ok"), Locale: ptr("english!"), Title: ptr("t"), Body: ptr("b"), Audience: ptr("public")}, "locale"},
		} {
			_, err := kb.CreateArticle(ctx, c.spec, editor)
			var inv *errs.Invalid
			if !errors.As(err, &inv) || inv.Field != c.field {
				t.Errorf("%+v: %v, want invalid %s", c.spec, err, c.field)
			}
		}
		_, err := kb.CreateFact(ctx, knowledge.FactSpec{Name: ptr("Shipping Fee"), Value: ptr("x")}, editor)
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != "name" {
			t.Errorf("bad fact name: %v", err)
		}
	})
}

func TestFactsRenderInPublishedArticleAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		fid, _ := setFact(t, kb, "shipping.fee", "€4.95")
		a := publishArticle(t, kb, "shipping", "Shipping", `Shipping costs **{{fact "shipping.fee"}}** per order. Delivery: {{fact "delivery.time.standard"}}.`, knowledge.Public)

		r, err := kb.RenderArticle(ctx, a.ID, knowledge.Public, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.HTML), "<strong>€4.95</strong>") {
			t.Fatalf("fact not rendered: %s", r.HTML)
		}
		if !strings.Contains(string(r.HTML), `<mark class="kb-missing-fact">[missing fact: delivery.time.standard]</mark>`) {
			t.Fatalf("missing fact not marked: %s", r.HTML)
		}
		if len(r.Cites) != 2 || r.Cites[0].Kind != "article" || r.Cites[1] != (knowledge.Ref{Kind: "fact", ID: fid, Name: "shipping.fee", Version: 1}) {
			t.Fatalf("cites: %+v", r.Cites)
		}
		// The fact changes; the article is not re-published and shows it at once.
		setFact(t, kb, "shipping.fee", "€3.95 <b>only</b>")
		setFact(t, kb, "delivery.time.standard", "2-3 *working* days")
		r, err = kb.RenderArticle(ctx, a.ID, knowledge.Public, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(r.HTML), "<strong>€3.95 &lt;b&gt;only&lt;/b&gt;</strong>") || !strings.Contains(string(r.HTML), "2-3 *working* days") {
			t.Fatalf("new fact values not rendered as text: %s", r.HTML)
		}
		if r.Version.Version != 1 || r.Cites[1].Version != 2 {
			t.Fatalf("cites after the change: %+v", r.Cites)
		}
		// Templates and replies.
		text, refs, err := kb.RenderFacts(ctx, `Shipping is {{ fact "shipping.fee" }}; opening hours {{fact "store.main-street.hours"}}.`, "en")
		if err != nil {
			t.Fatal(err)
		}
		if text != "Shipping is €3.95 <b>only</b>; opening hours [missing fact: store.main-street.hours]." || len(refs) != 1 {
			t.Fatalf("RenderFacts: %q %+v", text, refs)
		}
		// A locale's own value wins over the default.
		f, err := kb.CreateFact(ctx, knowledge.FactSpec{Name: ptr("shipping.fee"), Locale: ptr("de"), Value: ptr("4,95 €")}, editor)
		if err != nil {
			t.Fatal(err)
		}
		kb.SubmitFact(ctx, f.ID, 1, editor)
		if err := kb.PublishFact(ctx, f.ID, 1, publisher); err != nil {
			t.Fatal(err)
		}
		if text, _, _ := kb.RenderFacts(ctx, `{{fact "shipping.fee"}}`, "de-AT"); text != "4,95 €" {
			t.Fatalf("de-AT got %q", text)
		}
		// A draft value is never shown.
		if _, err := kb.NewFactDraft(ctx, fid, knowledge.FactSpec{Value: ptr("free")}, editor); err != nil {
			t.Fatal(err)
		}
		if text, _, _ := kb.RenderFacts(ctx, `{{fact "shipping.fee"}}`, ""); text != "€3.95 <b>only</b>" {
			t.Fatalf("draft leaked: %q", text)
		}
		d, err := kb.DiffFact(ctx, fid, 1, 2)
		if err != nil || knowledge.Unified(d.Lines) != "-€4.95\n+€3.95 <b>only</b>\n" {
			t.Fatalf("fact diff: %v %+v", err, d)
		}
	})
}

func TestHostileMarkdownRendersSafe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		for _, body := range []string{
			"<script>alert(1)</script>",
			"[click](javascript:alert(1))",
			"[click](JaVaScRiPt:alert(1))",
			"[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
			"<img src=x onerror=alert(1)>",
			"<a href=\"javascript:alert(1)\">x</a>",
			"<iframe src=\"https://evil.example\"></iframe>",
			"![x](https://tracker.example/p.gif)",
			"<div onclick=\"alert(1)\">hi</div>",
			"<svg><script>alert(1)</script></svg>",
			"`<script>` in code is text",
			"{{fact \"\x01<script>\"}}",
			"\uE0000\uE001 forged gap marker",
			"<style>body{display:none}</style>",
		} {
			h, _, err := kb.RenderMarkdown(ctx, body, "en")
			if err != nil {
				t.Fatal(err)
			}
			low := strings.ToLower(string(h))
			if strings.Contains(body, "\uE000") && strings.Contains(low, "<mark") {
				t.Errorf("a forged gap marker became markup: %q", h)
			}
			for _, bad := range []string{"<script", "javascript:", "onerror", "onclick", "<iframe", "<style", "data:text", "tracker.example", "<svg"} {
				if strings.Contains(low, bad) {
					t.Errorf("%q rendered %q, which contains %q", body, h, bad)
				}
			}
		}
		h, _, _ := kb.RenderMarkdown(ctx, "# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[ok](https://example.com)", "en")
		for _, want := range []string{"<h1>Title</h1>", "<table>", `href="https://example.com"`, `rel="noopener noreferrer nofollow"`} {
			if !strings.Contains(string(h), want) {
				t.Errorf("safe Markdown lost %q: %s", want, h)
			}
		}
	})
}

func TestSearch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		setFact(t, kb, "shipping.fee", "€4.95")
		publishArticle(t, kb, "shipping-charges", "Shipping charges", `We charge {{fact "shipping.fee"}} for every delivery to your door.`, knowledge.Public)
		publishArticle(t, kb, "returns", "Returning an order", "Send the parcel back. Shipping for returns is free; we refund the delivery.", knowledge.Public)
		publishArticle(t, kb, "kiosk-help", "Using the kiosk", "Tap the screen to check in for your delivery pickup.", knowledge.Kiosk)
		publishArticle(t, kb, "agent-override", "Override shipping secrets", "Agents only: waive shipping with code OVERRIDE-7 when the delivery is late.", knowledge.Agents)
		// A draft is never found.
		if _, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: ptr("draft"), Title: ptr("Shipping draft"), Body: ptr("unpublished shipping"), Audience: ptr("public")}, editor); err != nil {
			t.Fatal(err)
		}

		slugs := func(hits []knowledge.Hit) string {
			var s []string
			for _, h := range hits {
				s = append(s, h.Slug)
			}
			return strings.Join(s, ",")
		}
		search := func(q string, aud knowledge.Audience) []knowledge.Hit {
			t.Helper()
			hits, err := kb.Search(ctx, knowledge.Query{Text: q, Audience: aud})
			if err != nil {
				t.Fatalf("search %q as %s: %v", q, aud, err)
			}
			return hits
		}

		// Audiences: agents-only never public or kiosk, whatever the query.
		for _, q := range []string{"shipping", "override", "OVERRIDE-7", "secrets", "waive", "agents only", "delivery late"} {
			for _, aud := range []knowledge.Audience{knowledge.Public, knowledge.Kiosk} {
				if s := slugs(search(q, aud)); strings.Contains(s, "agent-override") {
					t.Errorf("%q as %s found the agents-only article: %s", q, aud, s)
				}
			}
		}
		if s := slugs(search("override", knowledge.Agents)); s != "agent-override" {
			t.Errorf("agents search override: %q", s)
		}
		if s := slugs(search("tap screen", knowledge.Kiosk)); s != "kiosk-help" {
			t.Errorf("kiosk sees kiosk articles: %q", s)
		}
		if s := slugs(search("tap screen", knowledge.Public)); s != "" {
			t.Errorf("public sees a kiosk article: %q", s)
		}
		// Stemming: "deliveries" finds "delivery".
		if s := slugs(search("deliveries ", knowledge.Public)); !strings.Contains(s, "shipping-charges") || !strings.Contains(s, "returns") {
			t.Errorf("stemming: deliveries found %q", s)
		}
		// Prefix of the last word.
		if s := slugs(search("shipp", knowledge.Public)); !strings.Contains(s, "shipping-charges") {
			t.Errorf("prefix: shipp found %q", s)
		}
		if s := slugs(search("parcel ba", knowledge.Public)); s != "returns" {
			t.Errorf("prefix after a word: %q", s)
		}
		// Ranking: the title match first.
		hits := search("shipping", knowledge.Public)
		if s := slugs(hits); s != "shipping-charges,returns" {
			t.Errorf("ranking: %q", s)
		}
		if len(hits) == 2 && !(hits[0].Rank > hits[1].Rank) {
			t.Errorf("ranks not decreasing: %+v", hits)
		}
		// Snippets: escaped, marked, facts resolved.
		if len(hits) > 0 {
			if !strings.Contains(string(hits[0].TitleHTML), "<mark>Shipping</mark>") {
				t.Errorf("title highlight: %s", hits[0].TitleHTML)
			}
			if !strings.Contains(string(hits[0].Snippet), "€4.95") || strings.Contains(string(hits[0].Snippet), "{{") {
				t.Errorf("snippet fact: %s", hits[0].Snippet)
			}
		}
		// Hostile syntax never errors.
		for _, q := range []string{`"`, `"unbalanced`, `NEAR(shipping delivery, 2)`, `*`, `ship*`, `title:shipping`, `(shipping`, `shipping)`,
			`AND OR NOT`, `-shipping`, `shipping & | ! <->`, `'; DROP TABLE kb_articles; --`, `^shipping`, `{title}: x`, `\x00\xff`, "?", strings.Repeat("ab ", 500)} {
			if _, err := kb.Search(ctx, knowledge.Query{Text: q, Audience: knowledge.Agents}); err != nil {
				t.Errorf("query %q: %v", q, err)
			}
		}
		if _, err := kb.Search(ctx, knowledge.Query{Text: "x", Audience: "everyone"}); err == nil {
			t.Error("a bad audience was accepted")
		}
	})
}

func TestSnippetEscapesContent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		publishArticle(t, kb, "code", "Code <b>sample</b>", "Type `<script>alert('widget')</script>` into the widget box.", knowledge.Public)
		hits, err := kb.Search(ctx, knowledge.Query{Text: "widget"})
		if err != nil || len(hits) != 1 {
			t.Fatalf("%v %+v", err, hits)
		}
		s := string(hits[0].Snippet) + string(hits[0].TitleHTML)
		if strings.Contains(s, "<script") || strings.Contains(s, "<b>") || !strings.Contains(s, "<mark>widget</mark>") || !strings.Contains(s, "&lt;b&gt;") {
			t.Fatalf("snippet: %s", s)
		}
	})
}

func TestContentGaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		publishArticle(t, kb, "hours", "Opening hours", "Open every day.", knowledge.Public)
		for range 3 {
			if _, err := kb.Search(ctx, knowledge.Query{Text: "Gift  Cards ", Audience: knowledge.Kiosk, Locale: "en"}); err != nil {
				t.Fatal(err)
			}
		}
		kb.Search(ctx, knowledge.Query{Text: "opening", Audience: knowledge.Public})               // found: no gap
		kb.Search(ctx, knowledge.Query{Text: "warranty", Audience: knowledge.Public, NoGap: true}) // type-ahead: no gap
		gaps, err := kb.Gaps(ctx, knowledge.GapFilter{Since: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(gaps) != 1 || gaps[0].Query != "gift cards" || gaps[0].Searches != 3 || gaps[0].Audience != knowledge.Kiosk || gaps[0].Locale != "en" {
			t.Fatalf("gaps: %+v", gaps)
		}
	})
}

// interactionAt stores a customer, a contact point and an interaction.
func interactionAt(t *testing.T, db *store.DB, cp id.ID, at time.Time) (id.ID, id.ID) {
	t.Helper()
	var cust, ia id.ID
	err := db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		cust, ia = tx.NewID(), tx.NewID()
		now := at.UnixMicro()
		if _, err := tx.Exec(ctx, "INSERT INTO customers (id, root_id, created_at, updated_at, last_seen_at) VALUES (?, ?, ?, ?, ?)", cust, cust, now, now, now); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO interactions (id, customer_id, contact_point_id, kind, direction, occurred_at, source, received_at)
			VALUES (?, ?, ?, 'message', 'outbound', ?, 'test', ?)`, ia, cust, cp, now, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cust, ia
}

func contactPoint(t *testing.T, db *store.DB, name string) id.ID {
	t.Helper()
	var cp id.ID
	err := db.Write(context.Background(), func(ctx context.Context, tx *store.Tx) error {
		cp = tx.NewID()
		_, err := tx.Exec(ctx, "INSERT INTO contact_points (id, kind, name, online, contact_level, created_at, updated_at) VALUES (?, 'web_chat', ?, ?, 'low', 0, 0)", cp, name, true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestCitationsAndConsistency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		chat, phone := contactPoint(t, db, "chat"), contactPoint(t, db, "phone")
		start := time.Now().Add(-time.Hour)
		fid, _ := setFact(t, kb, "shipping.fee", "€4.95")

		_, refs, err := kb.RenderFacts(ctx, `It costs {{fact "shipping.fee"}}.`, "en")
		if err != nil {
			t.Fatal(err)
		}
		oldCust, ia1 := interactionAt(t, db, chat, start.Add(time.Minute))
		if err := kb.Cite(ctx, ia1, refs); err != nil {
			t.Fatal(err)
		}
		if err := kb.Cite(ctx, ia1, refs); err != nil { // idempotent
			t.Fatal(err)
		}
		setFact(t, kb, "shipping.fee", "€3.95")
		_, refs2, _ := kb.RenderFacts(ctx, `{{fact "shipping.fee"}}`, "en")
		_, ia2 := interactionAt(t, db, phone, start.Add(2*time.Minute))
		if err := kb.Cite(ctx, ia2, refs2); err != nil {
			t.Fatal(err)
		}

		got, err := kb.WhoGotFact(ctx, "shipping.fee", 0, start)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].CustomerID != oldCust || got[0].InteractionID != ia1 || got[0].Version != 1 || *got[0].ContactPointID != chat {
			t.Fatalf("who got the old fact: %+v", got)
		}
		if got, _ := kb.WhoGotFact(ctx, "shipping.fee", 2, start); len(got) != 1 || got[0].InteractionID != ia2 {
			t.Fatalf("who got version 2: %+v", got)
		}
		if got, _ := kb.WhoGotFact(ctx, "shipping.fee", 0, start.Add(90*time.Second)); len(got) != 0 {
			t.Fatalf("window not applied: %+v", got)
		}

		rep, err := kb.Consistency(ctx, start, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep) != 1 || rep[0].ID != fid || rep[0].Current != 2 || len(rep[0].Versions) != 2 ||
			rep[0].Versions[0].Version != 2 || *rep[0].Versions[0].ContactPoints[0].ContactPointID != phone ||
			*rep[0].Versions[1].ContactPoints[0].ContactPointID != chat {
			t.Fatalf("consistency: %+v", rep)
		}

		// Bad citations name the field.
		var inv *errs.Invalid
		if err := kb.Cite(ctx, ia1, []knowledge.Ref{{Kind: "fact", ID: fid, Version: 9}}); !errors.As(err, &inv) || inv.Field != "cites[0].version" {
			t.Fatalf("unknown version: %v", err)
		}
		if err := kb.Cite(ctx, 12345, refs); !errors.As(err, &inv) || inv.Field != "interaction_id" {
			t.Fatalf("unknown interaction: %v", err)
		}
	})
}

func TestDiffLines(t *testing.T) {
	for _, c := range []struct{ a, b, want string }{
		{"", "", ""},
		{"a", "a", " a\n"},
		{"a\nb\nc", "a\nc", " a\n-b\n c\n"},
		{"a\nc", "a\nb\nc", " a\n+b\n c\n"},
		{"a\nb", "c\nd", "-a\n-b\n+c\n+d\n"},
		{"x\na\nb\ny", "x\nb\na\ny", " x\n-a\n b\n+a\n y\n"},
	} {
		if got := knowledge.Unified(knowledge.DiffLines(c.a, c.b)); got != c.want {
			t.Errorf("diff %q → %q:\n%s\nwant\n%s", c.a, c.b, got, c.want)
		}
	}
	// Large inputs stay bounded.
	big := strings.Repeat("line\n", 5000)
	if n := len(knowledge.DiffLines(big+"a", "b"+big)); n == 0 {
		t.Error("empty diff of different texts")
	}
}
