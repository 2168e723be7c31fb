package desk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// chatBudget bounds the visitor's browser, which lives through the whole
// conversation (the agent signs in meanwhile); generous for loaded machines.
const chatBudget = 120 * time.Second

// chatWait is how long a message may take to show in the other browser.
const chatWait = 15 * time.Second

// The words: a plain page of another site carries the script tag; a
// visitor opens the launcher and writes; an agent sees the case, answers
// from the case page, and the visitor reads the answer in the widget.
func TestBrowserChatWidget(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	ctx := t.Context()
	cpID := w.cps["web_chat"]

	site := chatSite(t, w, cpID)
	// A chat queue and Priya available for chats: the visitor is told
	// someone is there, and the chat is offered to her.
	q, err := w.s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{"chat"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Routing.SetAgentProfile(ctx, w.agentA.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{"chat": 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Routing.SetPresence(ctx, w.agentA.ID, engine.Available, ""); err != nil {
		t.Fatal(err)
	}

	v := openChatBrowser(t, chrome, "visitor")
	v.load("open the shop", chromedp.Navigate(site.URL+"/"))
	const sh = `document.querySelector("[data-touchpoint-chat]")?.shadowRoot`
	v.within(chatWait, "the launcher", sh+`?.querySelector(".launcher")?.getAttribute("aria-label") === "Open chat: Northwind help"`)
	if bg := evalIn[string](v, "the launcher's colour", `getComputedStyle(`+sh+`.querySelector(".launcher")).backgroundColor`); bg == "rgb(255, 0, 0)" {
		t.Errorf("the shop's CSS reached the launcher (background %s)", bg)
	}
	if bg := evalIn[string](v, "the shop's button", `getComputedStyle(document.getElementById("buy")).backgroundColor`); bg != "rgb(255, 0, 0)" {
		t.Errorf("the widget's CSS reached the shop's button (background %s)", bg)
	}
	v.do("open the chat", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".launcher").click()`))
	v.within(chatWait, "the panel open with the message box focused",
		`!`+sh+`.querySelector(".panel").hidden && `+sh+`.activeElement?.id === "tp-text"`)
	if !evalIn[bool](v, "the greeting", sh+`.querySelector(".log").textContent.includes("Ask us anything.")`) {
		t.Error("the greeting is not shown")
	}
	// Keyboard only: the message box has the focus, Enter sends.
	question := `My kettle <img src=x onerror=alert(1)> leaks & hisses`
	v.do("write a message", chromedp.KeyEvent(question), chromedp.KeyEvent(kb.Enter))
	v.within(chatWait, "the message stored", sh+`.querySelectorAll(".msg.visitor[data-id]").length === 1 && !`+sh+`.querySelector(".msg.visitor .meta").textContent.includes("sending")`)
	if got := evalIn[string](v, "the message as shown", sh+`.querySelector(".msg.visitor .text").textContent`); got != question {
		t.Errorf("the widget shows %q, want the text as typed", got)
	}
	if n := evalIn[int](v, "images in the widget", sh+`.querySelectorAll("img").length`); n != 0 {
		t.Errorf("the visitor's text became %d img elements", n)
	}

	// The message opened a case and was routed to the chat queue.
	var caseID id.ID
	if err := w.s.DB.QueryRow(ctx, "SELECT case_id FROM interactions WHERE source = ?", "webchat:"+cpID.String()).Scan(&caseID); err != nil || caseID == 0 {
		t.Fatalf("the chat message is on no case (%v)", err)
	}
	items, err := w.s.Routing.ListItems(ctx, routing.ItemQuery{QueueID: q.ID})
	if err != nil || len(items) != 1 || items[0].CaseID != caseID {
		t.Fatalf("routing items %+v (%v), want the chat's case %s", items, err, caseID)
	}

	// Priya, in her own browser, opens the case and answers on the chat.
	a := openBrowser(t, chrome, "agent")
	a.signIn(w, w.agentA)
	a.openCase(w, caseID)
	if !evalIn[bool](a, "the question on the case", `document.body.textContent.includes("My kettle <img src=x onerror=alert(1)> leaks")`) {
		t.Error("the visitor's question is not on the case page")
	}
	answer := "Hi! A technician will call you today about the kettle."
	a.do("write the answer",
		chromedp.SetValue(chromedp.ID("reply-channel"), cpID.String()),
		chromedp.SendKeys(chromedp.ID("reply-body"), answer),
	)
	a.load("send the answer", chromedp.Click(chromedp.CSS(`#reply-form button[type="submit"]`)))

	v.within(chatWait, "the answer in the widget", sh+`.querySelector(".msg.agent .text")?.textContent === `+js(answer))
	if got := evalIn[string](v, "who answered", sh+`.querySelector(".msg.agent .meta").textContent`); !strings.HasPrefix(got, "Priya") {
		t.Errorf("the answer is signed %q", got)
	}
	// The widget says it showed the answer.
	deadline := time.Now().Add(chatWait)
	for {
		var status string
		w.s.DB.QueryRow(ctx, "SELECT delivery_status FROM interactions WHERE case_id = ? AND direction = 'outbound'", caseID).Scan(&status)
		if status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the answer's delivery status is %q, want delivered", status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Escape closes the panel and gives the focus back to the launcher.
	v.do("press Escape", chromedp.KeyEvent(kb.Escape))
	v.within(chatWait, "the panel closed", sh+`.querySelector(".panel").hidden && `+sh+`.activeElement?.classList.contains("launcher")`)

	// A new page load keeps the conversation.
	v.load("reload the shop", chromedp.Navigate(site.URL+"/?again"))
	v.within(chatWait, "the history after a reload", sh+`?.querySelectorAll(".msg").length === 2 && `+sh+`.querySelector(".msg.agent .text").textContent === `+js(answer))

	// On a phone the open chat takes the whole screen.
	v.do("turn into a phone", chromedp.EmulateViewport(375, 700))
	v.do("open the chat on the phone", chromedp.Evaluate[chromedp.Void](sh+`.querySelector(".launcher").click()`))
	v.within(chatWait, "the chat fills the phone's screen", `(() => { const r = `+sh+`.querySelector(".panel").getBoundingClientRect();
		return r.width === innerWidth && r.height === innerHeight; })()`)

	if d, _ := v.troubles(); len(d) > 0 {
		t.Errorf("dialogs opened in the shop: %v", d)
	}
	v.noScriptErrors()
	a.noScriptErrors()
}

// chatSite serves a plain page of another origin with the widget's script
// tag, allowed on the web chat cpID; its CSS would restyle every button and
// paragraph it could reach.
func chatSite(t *testing.T, w *browserWorld, cpID id.ID) *httptest.Server {
	t.Helper()
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Northwind shop</title>
<style>button, div, span { background: rgb(255, 0, 0) !important; color: rgb(0, 255, 0) !important; }</style></head>
<body><h1>Northwind shop</h1><button id="buy">Buy</button>
<script src="%s/widget.js" data-contact-point="%s" async></script></body></html>`, w.srv.URL, cpID)
	}))
	t.Cleanup(site.Close)
	settings, _ := json.Marshal(map[string]any{"allowed_origins": []string{site.URL}, "title": "Northwind help", "greeting": "Ask us anything."})
	if _, err := w.s.ContactPoints.Update(t.Context(), cpID, contactpoint.Spec{Settings: settings}); err != nil {
		t.Fatal(err)
	}
	return site
}

// openChatBrowser is openBrowser with the visitor's longer budget.
func openChatBrowser(t *testing.T, chrome, name string) *deskBrowser {
	t.Helper()
	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]), chromedp.ExecPath(chrome), chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	budget, cancelBudget := context.WithTimeout(context.Background(), chatBudget)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(budget, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelBudget()
	})
	b := &deskBrowser{t: t, name: name, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *page.EventJavascriptDialogOpening:
			b.mu.Lock()
			b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
			b.mu.Unlock()
			go func() {
				dctx, cancel := context.WithTimeout(ctx, browserStep)
				defer cancel()
				chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}()
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg += " " + d.Exception.Description
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", msg, d.URL, d.LineNumber+1))
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("%s: starting Chromium: %v", name, err)
	}
	return b
}
