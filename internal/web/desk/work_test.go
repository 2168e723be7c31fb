package desk_test

import (
	"net/http"
	"strings"
	"testing"

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
