package knowledge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// TestCommonWordStillFindsTitleMatch: a word in far more articles than the
// ranking bound goes through the bounded candidate set on SQLite; the
// article titled with it must still come first, even when it is the oldest,
// and an agents-only article must stay hidden from the public.
func TestCommonWordStillFindsTitleMatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		kb.SetRankBound(10)
		publishArticle(t, kb, "delivery-times", "Delivery times", "How long it takes for a parcel to arrive.", knowledge.Public)
		publishArticle(t, kb, "delivery-secret", "Delivery override", "Agents only: how to override a delivery.", knowledge.Agents)
		for i := range 40 {
			publishArticle(t, kb, fmt.Sprintf("other-%d", i), fmt.Sprintf("Other topic %d", i),
				fmt.Sprintf("Some text about delivery and parcels, number %d.", i), knowledge.Public)
		}
		for _, q := range []string{"delivery", "deliv", "deliveries"} {
			hits, err := kb.Search(ctx, knowledge.Query{Text: q, Audience: knowledge.Public, NoGap: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) == 0 || hits[0].Slug != "delivery-times" {
				t.Fatalf("%q: want delivery-times first, got %+v", q, hits)
			}
			if len(hits) != 10 {
				t.Errorf("%q: want a full page of 10 hits, got %d", q, len(hits))
			}
			for _, h := range hits {
				if h.Slug == "delivery-secret" {
					t.Fatalf("%q: the agents-only article was found by the public", q)
				}
			}
		}
		// Agents see the agents-only title match among the first two.
		hits, err := kb.Search(ctx, knowledge.Query{Text: "delivery", Audience: knowledge.Agents, NoGap: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) < 2 || (hits[0].Slug != "delivery-secret" && hits[1].Slug != "delivery-secret") {
			t.Fatalf("agents: want delivery-secret among the first two, got %+v", hits)
		}
	})
}
