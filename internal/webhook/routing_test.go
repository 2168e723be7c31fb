package webhook_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
	"github.com/touchpoint-hub/touchpoint/internal/webhook"
)

// Routing changes write their webhooks in the router's own transaction:
// an offer and its acceptance each become one delivery, with the engine's
// event in the body.
func TestRoutingEventsAreWrittenWithTheChange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := setup(t, db, newClock())
		sub := subscribe(t, s, "https://hooks.example.com/in", webhook.OfferMade, webhook.OfferAccepted, webhook.WorkItemCompleted)
		b := bus.NewLocal()
		defer b.Close()
		r := routing.NewService(db, b, nil, engine.Config{})
		defer r.Close()
		r.SetWriteHook(s.RoutingEvents)
		u, err := access.NewService(db).CreateUser(ctx, "ann@example.com", "Ann", access.Agent, "correct horse battery", "test")
		if err != nil {
			t.Fatal(err)
		}
		q, err := r.UpsertQueue(ctx, 0, routing.QueueInput{Name: "Chat"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SetAgentProfile(ctx, u.ID, routing.AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelChat: 1}, Queues: []id.ID{q.ID}}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.SetPresence(ctx, u.ID, engine.Available, ""); err != nil {
			t.Fatal(err)
		}
		w, err := r.Enqueue(ctx, routing.NewItem{QueueID: q.ID, Channel: engine.ChannelChat})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Accept(ctx, w.ID, u.ID); err != nil {
			t.Fatal(err)
		}
		types := map[string]int{}
		for _, d := range deliveries(t, s, sub.ID) {
			types[d.EventType]++
			full, err := s.Delivery(ctx, sub.ID, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Type string `json:"type"`
				Data struct {
					ItemID  string `json:"item_id"`
					AgentID string `json:"agent_id"`
				} `json:"data"`
			}
			if err := json.Unmarshal(full.Payload, &body); err != nil || body.Data.ItemID != w.ID.String() || body.Data.AgentID != u.ID.String() {
				t.Fatalf("%s delivery body %s (%v)", d.EventType, full.Payload, err)
			}
		}
		if types[webhook.OfferMade] != 1 || types[webhook.OfferAccepted] != 1 || len(types) != 2 {
			t.Fatalf("deliveries by type: %v", types)
		}
	})
}
