package routing_test

import (
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A new chat nobody has answered yet waits in the chat queue, with its case;
// a contact logged by staff, a page view and last week's email do not.
func TestNewContactsWaitInTheirChannelsQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := app.NewServices(db, "US")
		chatQ, err := s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{"chat", "message"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Routing.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Email", Queue: engine.Queue{Channels: []engine.Channel{"email"}}}); err != nil {
			t.Fatal(err)
		}
		cp := func(kind, name string) interaction.Input {
			k := contactpoint.Kind(kind)
			c, err := s.ContactPoints.Create(ctx, contactpoint.Spec{Kind: &k, Name: &name})
			if err != nil {
				t.Fatal(err)
			}
			return interaction.Input{ContactPointID: c.ID, Direction: interaction.Inbound,
				Identifiers: []customer.RawIdentifier{{Kind: "email", Value: "grace@example.com"}}}
		}
		chat, email, web := cp("web_chat", "Chat"), cp("email", "support@example.com"), cp("website", "Shop")
		chat.Kind, chat.Content = "chat", "Is my TV on its way?"
		served := chat
		served.StaffName, served.Outcome, served.Content = "Ada", "resolved", "answered at once"
		old := email
		old.Kind, old.OccurredAt = "email", time.Now().Add(-7*24*time.Hour)
		web.Kind, web.Direction = "page_view", interaction.Passive
		res, err := s.Interactions.Record(ctx, []interaction.Input{chat, served, old, web})
		if err != nil {
			t.Fatal(err)
		}
		items, err := s.Routing.ListItems(ctx, routing.ItemQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 {
			t.Fatalf("%d work items, want the one unanswered chat: %+v", len(items), items)
		}
		it := items[0]
		if it.QueueID != chatQ.ID || it.Channel != engine.ChannelChat || it.InteractionID != res[0].ID ||
			res[0].CaseID == nil || it.CaseID != *res[0].CaseID || it.CustomerID != res[0].CustomerID || it.State != routing.StateWaiting {
			t.Fatalf("the chat's work item %+v (recorded %+v)", it, res[0])
		}
	})
}
