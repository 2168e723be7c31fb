package demo

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/app"
	"github.com/touchpoint-hub/touchpoint/internal/kiosk"
	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// TestFillKiosk: the Main Street kiosk takes walk-ins into its own queue,
// callbacks go elsewhere, and the kiosk has articles of its own.
func TestFillKiosk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := app.NewServices(db, "US") // with routing and knowledge
		defer s.Routing.Close()
		if _, err := Fill(ctx, s, Options{Customers: 40, Seed: 5, Now: testNow}); err != nil {
			t.Fatal(err)
		}
		cps, err := CreateContactPoints(ctx, s.ContactPoints)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := s.ContactPoints.Get(ctx, cps[cpKioskMain])
		if err != nil {
			t.Fatal(err)
		}
		var settings kiosk.Settings
		if err := json.Unmarshal(cp.Settings, &settings); err != nil {
			t.Fatal(err)
		}
		q, err := s.Routing.GetQueue(ctx, settings.WalkInQueueID)
		if err != nil || q.Name != walkInQueue {
			t.Fatalf("walk-in queue: %v %+v (settings %s)", err, q, cp.Settings)
		}
		queues, err := s.Routing.ListQueues(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queues {
			if len(q.Channels) > 0 && q.Channels[0] == "task" {
				if q.Name != callbackQueue {
					t.Fatalf("callbacks would be routed to %q", q.Name)
				}
				break
			}
		}
		arts, _, err := s.Knowledge.ListArticles(ctx, knowledge.ArticleFilter{Audience: knowledge.Kiosk, Category: "Products"})
		if err != nil || len(arts) < 2 {
			t.Fatalf("kiosk product articles: %v %d", err, len(arts))
		}
	})
}
