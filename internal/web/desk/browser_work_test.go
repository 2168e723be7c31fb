package desk_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// The words: an agent goes available, an item arrives, the offer
// shows, accept, the case opens; the wallboard counts move.
func TestBrowserOfferAcceptAndWallboard(t *testing.T) {
	chrome := findChromium(t)
	w := newBrowserWorld(t)
	ctx := t.Context()
	q, err := w.s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Email support", Queue: engine.Queue{Channels: []engine.Channel{"email"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Routing.SetAgentProfile(ctx, w.agentA.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{"email": 3}}); err != nil {
		t.Fatal(err)
	}
	boss, err := w.s.Access.CreateUser(ctx, "sam@example.com", "Sam Supervisor", access.Supervisor, browserPassword, "test")
	if err != nil {
		t.Fatal(err)
	}

	board := openBrowser(t, chrome, "supervisor")
	board.signIn(w, boss)
	board.load("open the wallboard", chromedp.Navigate(w.srv.URL+"/wallboard"))
	board.do("wait for the live connection", chromedp.WaitReady(chromedp.CSS("#live-status.on")))

	agent := openBrowser(t, chrome, "agent")
	agent.signIn(w, w.agentA)
	agent.do("wait for the live connection", chromedp.WaitReady(chromedp.CSS("#live-status.on")))
	// Going available is a choice in the header; the form sends itself.
	agent.load("go available", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("my-presence");
		s.value = "available"; s.dispatchEvent(new Event("change")); })()`))
	agent.do("wait for the live connection again", chromedp.WaitReady(chromedp.CSS("#live-status.on")))
	agent.within(2*time.Second, "the header says available", `document.getElementById("my-presence").value === "available"`)
	board.within(2*time.Second, "the wallboard shows the agent available", textIn("#live", "available"))

	start := time.Now()
	item, err := w.s.Routing.Enqueue(ctx, routing.NewItem{QueueID: q.ID, Channel: "email", CaseID: w.caseID})
	if err != nil {
		t.Fatal(err)
	}
	agent.within(2*time.Second, "the offer", `!!document.querySelector('.offer-card[data-item="`+item.ID.String()+`"] [data-accept]')`)
	t.Logf("the offer showed %v after the item was queued", time.Since(start).Round(time.Millisecond))
	board.within(2*time.Second, "the wallboard counts the offer", `Array.from(document.querySelectorAll("#live table:first-of-type tbody tr")).some(r => r.cells[4] && r.cells[4].textContent.trim() === "1")`)

	agent.load("accept the offer", chromedp.Click(chromedp.CSS(`.offer-card [data-accept]`)))
	if got := agent.path(); got != w.casePath(w.caseID) {
		t.Fatalf("after accepting the agent is on %s, want the case %s", got, w.casePath(w.caseID))
	}
	board.within(2*time.Second, "the wallboard shows the work assigned", textIn("#live", "email · assigned"))
	agent.noScriptErrors()
	board.noScriptErrors()
}
