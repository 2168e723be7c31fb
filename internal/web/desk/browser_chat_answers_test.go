package desk_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge/knowledgetest"
)

// While a visitor writes, the widget offers the public help articles that
// match; one opens inside the widget with the facts as published at that
// moment, and the view is recorded with what it cited. Agents-only
// articles are never offered.
func TestBrowserChatAnswers(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	ctx := t.Context()
	cpID := w.cps["web_chat"]
	site := chatSite(t, w, cpID)
	kb := w.s.Knowledge
	factID, _ := knowledgetest.SetFact(t, kb, "shipping.fee", "€4.95 per order")
	knowledgetest.PublishArticle(t, kb, "shipping-charges", "Shipping charges",
		"Shipping costs **{{fact \"shipping.fee\"}}**.\n\n| Zone | Days |\n|---|---|\n| Home | 2 |\n\n<script>alert(1)</script>", "Delivery", knowledge.Public)
	knowledgetest.PublishArticle(t, kb, "goodwill-shipping", "Goodwill shipping refunds",
		"Agents may refund the shipping fee.", "Delivery", knowledge.Agents)

	v := openChatBrowser(t, chrome, "visitor")
	v.load("open the shop", chromedp.Navigate(site.URL+"/"))
	const sh = `document.querySelector("[data-touchpoint-chat]")?.shadowRoot`
	v.within(chatWait, "the launcher", sh+`?.querySelector(".launcher") != null`)
	v.do("open the chat", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".launcher").click()`))
	v.within(chatWait, "the message box focused", sh+`.activeElement?.id === "tp-text"`)
	v.do("start a question", chromedp.KeyEvent("How much is shipping"))
	v.within(chatWait, "a suggested article", sh+`.querySelectorAll(".answers:not([hidden]) .answer").length === 1`)
	if got := evalIn[string](v, "the suggestion", sh+`.querySelector(".answer strong").textContent`); got != "Shipping charges" {
		t.Errorf("the widget suggests %q; want the public article alone", got)
	}

	open := func(want string) {
		t.Helper()
		v.do("open the article", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".answer").click()`))
		v.within(chatWait, "the article in the widget", `(() => { const a = `+sh+`.querySelector(".article");
			return !a.hidden && a.textContent.includes(`+js(want)+`) && `+sh+`.querySelector(".log").hidden; })()`)
	}
	open("Shipping costs €4.95 per order.")
	if n := evalIn[int](v, "the article's table cells", sh+`.querySelectorAll(".article td").length`); n != 2 {
		t.Errorf("the article shows %d table cells; want 2", n)
	}
	if n := evalIn[int](v, "scripts in the widget", sh+`.querySelectorAll("script").length`); n != 0 {
		t.Errorf("the article brought %d script elements into the widget", n)
	}
	v.do("back to the chat", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".article .back").click()`))
	v.within(chatWait, "the chat again", `!`+sh+`.querySelector(".log").hidden && `+sh+`.querySelector(".article").hidden`)

	// The fact changes; the same suggestion now shows the new value.
	knowledgetest.SetFact(t, kb, "shipping.fee", "€4.95 per order; free from €50")
	open("Shipping costs €4.95 per order; free from €50.")

	var n int
	if err := w.s.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT k.version) FROM kb_citations k JOIN interactions i ON i.id = k.interaction_id
		WHERE k.kind = 'fact' AND k.target_id = ? AND i.contact_point_id = ?`, factID, cpID).Scan(&n); err != nil || n != 2 {
		t.Errorf("chat views cite %d versions of the fact (%v); want both", n, err)
	}
	if d, _ := v.troubles(); len(d) > 0 {
		t.Errorf("dialogs opened in the shop: %v", d)
	}
	v.noScriptErrors()
}

// The help center's own chat page: the widget runs there under the help
// center's strict CSP (no inline style, scripts and connections to this
// server only) without the server's origin in the allowed list, styled,
// and answers from the knowledge base.
func TestBrowserHelpCenterChat(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	knowledgetest.SetFact(t, w.s.Knowledge, "shipping.fee", "€4.95 per order")
	knowledgetest.PublishArticle(t, w.s.Knowledge, "shipping-charges", "Shipping charges",
		"Shipping costs {{fact \"shipping.fee\"}}.", "Delivery", knowledge.Public)

	v := openChatBrowser(t, chrome, "visitor")
	v.load("open the help center's chat page", chromedp.Navigate(w.srv.URL+"/help/chat"))
	const sh = `document.querySelector("[data-touchpoint-chat]")?.shadowRoot`
	v.within(chatWait, "the launcher", sh+`?.querySelector(".launcher") != null`)
	// The launcher is drawn at once and removed if the chat refuses the page.
	time.Sleep(time.Second)
	v.within(chatWait, "the launcher still there", sh+`?.querySelector(".launcher") != null`)
	if bg := evalIn[string](v, "the launcher's colour", `getComputedStyle(`+sh+`.querySelector(".launcher")).backgroundColor`); bg != "rgb(29, 78, 216)" {
		t.Errorf("the launcher is not styled under the help center's CSP (background %s)", bg)
	}
	v.do("open the chat", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".launcher").click()`))
	v.within(chatWait, "the message box focused", sh+`.activeElement?.id === "tp-text"`)
	v.do("ask", chromedp.KeyEvent("shipping"))
	v.within(chatWait, "a suggested article", sh+`.querySelector(".answers:not([hidden]) .answer strong")?.textContent === "Shipping charges"`)
	v.noScriptErrors()
}
