package desk_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
)

// An agent goes available in the desk, a chat arrives, the offer names the
// customer and the case, accepting lands on the case, and the wallboard shows
// the work.
func TestAgentTakesAnOfferFromTheDesk(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		chat := e.contactPoint("web_chat", "Web chat")
		agent := e.user(access.Agent, "Ada Agent")
		boss := e.user(access.Supervisor, "Sam Supervisor")
		q, err := e.s.Routing.UpsertQueue(e.ctx, 0, routing.QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{"chat"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Routing.SetAgentProfile(e.ctx, agent.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{"chat": 2}}); err != nil {
			t.Fatal(err)
		}
		b := e.signIn(agent)
		home := b.get("/")
		if !strings.Contains(home.body, `id="my-presence"`) || !strings.Contains(home.body, `<option value="offline" selected>`) {
			t.Fatal("the agent's desk does not show their state (offline) to change")
		}
		if res := b.post("/presence", map[string][]string{"presence": {"available"}}); res.status != http.StatusSeeOther {
			t.Fatalf("going available: %d %s", res.status, res.body)
		}
		if a, err := e.s.Routing.GetAgent(e.ctx, agent.ID); err != nil || a.Presence != engine.Available {
			t.Fatalf("after going available: %+v %v", a, err)
		}
		rec := e.record(interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "grace@example.com"}},
			Traits: map[string]any{"name": "Grace Whitman"}, ContactPointID: chat, Kind: "chat", Direction: interaction.Inbound,
			Subject: "Where is my TV?", Content: "Hi, my TV was due yesterday."})
		// The new chat waits in the chat queue by itself, and goes to the
		// only available agent.
		items, err := e.s.Routing.ListItems(e.ctx, routing.ItemQuery{QueueID: q.ID})
		if err != nil || len(items) != 1 {
			t.Fatalf("work items of the chat queue: %+v %v", items, err)
		}
		item := items[0]
		if item.State != routing.StateOffered || item.AgentID != agent.ID || item.InteractionID != rec.ID {
			t.Fatalf("the only available agent was not offered the chat: %+v", item)
		}
		offer := b.get("/work/" + item.ID.String())
		for _, want := range []string{"Grace Whitman", "Where is my TV?", "/work/" + item.ID.String() + "/accept"} {
			if !strings.Contains(offer.body, want) {
				t.Fatalf("the offer lacks %q: %s", want, offer.body)
			}
		}
		// Another agent may not look at or take it.
		other := e.signIn(e.user(access.Agent, "Olga Other"))
		if res := other.get("/work/" + item.ID.String()); res.status != http.StatusForbidden {
			t.Fatalf("another agent reading the offer: %d", res.status)
		}
		res := b.post("/work/"+item.ID.String()+"/accept", nil)
		if res.status != http.StatusSeeOther || res.location != "/cases/"+rec.CaseID.String() {
			t.Fatalf("accepting: %d to %q, want the case", res.status, res.location)
		}
		// The case page offers to finish the contact with an outcome; the
		// header shows the work in hand until then.
		page := b.get(res.location)
		if !strings.Contains(page.body, "/work/"+item.ID.String()+"/complete") || !strings.Contains(page.body, "Working on 1") {
			t.Fatal("the case page of accepted work has no way to finish it")
		}
		board := e.signIn(boss).get("/wallboard")
		if board.status != http.StatusOK || !strings.Contains(board.body, "Ada Agent") || !strings.Contains(board.body, "chat · assigned") {
			t.Fatalf("the wallboard does not show Ada handling the chat: %d", board.status)
		}
		if res := e.signIn(e.user(access.Agent, "Ann Agent")).get("/wallboard"); res.status != http.StatusForbidden {
			t.Fatalf("an agent on the wallboard: %d", res.status)
		}
		if res := b.post("/work/"+item.ID.String()+"/complete", map[string][]string{"disposition": {"made_up"}}); res.status != http.StatusUnprocessableEntity {
			t.Fatalf("an unknown outcome: %d", res.status)
		}
		if res := b.post("/work/"+item.ID.String()+"/complete", map[string][]string{"disposition": {"resolved"}}); res.status != http.StatusSeeOther {
			t.Fatalf("finishing the contact: %d %s", res.status, res.body)
		}
		done, err := e.s.Routing.GetItem(e.ctx, item.ID)
		if err != nil || done.State != routing.StateCompleted || done.Disposition != "resolved" {
			t.Fatalf("after finishing: %+v %v", done, err)
		}
		if page := b.get("/cases/" + rec.CaseID.String()); strings.Contains(page.body, "Working on") {
			t.Fatal("the header still shows work in hand after it was finished")
		}
	})
}

// The wallboard's figures come from the routing log over the chosen window:
// today (the default) or the last 30 minutes.
func TestWallboardFiguresOverAWindow(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *testEnv) {
		clock := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
		start := clock
		e.s.Routing.Now = func() time.Time { return clock }
		at := func(d time.Duration) { clock = start.Add(d) }
		agent := e.user(access.Agent, "Ada Agent")
		boss := e.user(access.Supervisor, "Sam Supervisor")
		at(-40 * time.Minute)
		q, err := e.s.Routing.UpsertQueue(e.ctx, 0, routing.QueueInput{Name: "Chat", Queue: engine.Queue{
			Channels: []engine.Channel{"chat"}, Target: engine.ServiceLevel{Percent: 80, Within: 20 * time.Second}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.s.Routing.SetAgentProfile(e.ctx, agent.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{"chat": 1}}); err != nil {
			t.Fatal(err)
		}
		// 40 minutes ago a chat waited 10 s for nobody and left.
		early, err := e.s.Routing.Enqueue(e.ctx, routing.NewItem{QueueID: q.ID, Channel: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		at(-40*time.Minute + 10*time.Second)
		if _, err := e.s.Routing.Abandon(e.ctx, early.ID); err != nil {
			t.Fatal(err)
		}
		// Now Ada answers one after 10 s and handles it for 60 s.
		at(0)
		if _, err := e.s.Routing.SetPresence(e.ctx, agent.ID, engine.Available, ""); err != nil {
			t.Fatal(err)
		}
		it, err := e.s.Routing.Enqueue(e.ctx, routing.NewItem{QueueID: q.ID, Channel: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		at(10 * time.Second)
		if _, err := e.s.Routing.Accept(e.ctx, it.ID, agent.ID); err != nil {
			t.Fatal(err)
		}
		at(70 * time.Second)
		if _, err := e.s.Routing.Complete(e.ctx, it.ID, agent.ID); err != nil {
			t.Fatal(err)
		}
		at(80 * time.Second)

		b := e.signIn(boss)
		row := func(body, queue string, n int) string {
			// The n-th table row headed by the queue's name, tags stripped.
			parts := strings.Split(body, `<th scope="row">`+queue+`</th>`)
			if len(parts) <= n {
				t.Fatalf("no row %d for %s", n, queue)
			}
			r, _, _ := strings.Cut(parts[n], "</tr>")
			return strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(r, " ")), " ")
		}
		today := b.get("/wallboard")
		if today.status != http.StatusOK || !strings.Contains(today.body, `href="/wallboard?window=today" aria-current="page"`) {
			t.Fatalf("the wallboard does not default to today: %d", today.status)
		}
		// Offered, answered, abandoned, service level (abandons missed),
		// abandon rate, speed of answer, longest wait answered, handle time.
		if got, want := row(today.body, "Chat", 2), "2 1 1 50.0% target 80% in 20.0 s, abandons missed 50.0% 10.0 s 10.0 s 60.0 s"; got != want {
			t.Errorf("today's row: %q, want %q", got, want)
		}
		// Available 10 s, busy 60 s, available 10 s: 75% occupied.
		if !strings.Contains(today.body, "75.0%") {
			t.Error("the wallboard does not show Ada's occupancy")
		}
		recent := b.get("/wallboard?window=30m")
		if got, want := row(recent.body, "Chat", 2), "1 1 0 100.0% target 80% in 20.0 s, abandons missed 0.0% 10.0 s 10.0 s 60.0 s"; got != want {
			t.Errorf("the last 30 minutes' row: %q, want %q", got, want)
		}
		if live := b.get("/wallboard?window=30m&partial=live"); !strings.Contains(live.body, `href="/wallboard?window=30m" aria-current="page"`) {
			t.Error("the live refresh loses the window")
		}
	})
}
