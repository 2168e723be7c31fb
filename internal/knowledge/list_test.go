package knowledge_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// Editors find any article or fact by a part of its name or text and by
// status, a page at a time, however many there are: the filter runs in the
// store, and % and _ are plain characters.
func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		for i := range 12 {
			publishArticle(t, kb, fmt.Sprintf("filler-%02d", i), fmt.Sprintf("Filler %d", i), "Text.", knowledge.Public)
		}
		publishArticle(t, kb, "discounts", "100% off days", "Twice a year.", knowledge.Public)
		if _, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: ptr("gift-cards"), Title: ptr("Gift vouchers_2027"), Body: ptr("Soon."), Audience: ptr("public")}, editor); err != nil {
			t.Fatal(err)
		}
		setFact(t, kb, "store.main-street.hours", "Mo–Sa 09:00–20:00")
		setFact(t, kb, "shipping.fee", "$4.95, free from $50")

		slugs := func(f knowledge.ArticleFilter) []string {
			t.Helper()
			arts, _, err := kb.ListArticles(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range arts {
				out = append(out, a.Slug)
			}
			return out
		}
		for _, c := range []struct {
			f    knowledge.ArticleFilter
			want string
		}{
			{knowledge.ArticleFilter{Text: "100%"}, "[discounts]"},
			{knowledge.ArticleFilter{Text: "OFF DAYS"}, "[discounts]"},
			{knowledge.ArticleFilter{Text: "vouchers_"}, "[gift-cards]"},
			{knowledge.ArticleFilter{Text: "t_c"}, "[]"}, // _ is no wildcard: the slug has "t-c"
			{knowledge.ArticleFilter{Text: "gift", Status: "published"}, "[]"},
			{knowledge.ArticleFilter{Text: "gift", Status: "draft"}, "[gift-cards]"},
		} {
			if got := fmt.Sprint(slugs(c.f)); got != c.want {
				t.Errorf("%+v: %s, want %s", c.f, got, c.want)
			}
		}
		if _, _, err := kb.ListArticles(ctx, knowledge.ArticleFilter{Status: "archived"}); err == nil {
			t.Error("an unknown status was accepted")
		}

		// Pages: every filler once, in order, across pages of five.
		var seen []string
		cursor := ""
		for range 10 {
			arts, next, err := kb.ListArticles(ctx, knowledge.ArticleFilter{Text: "filler", Limit: 5, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range arts {
				seen = append(seen, a.Slug)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(seen) != 12 || seen[0] != "filler-00" || seen[11] != "filler-11" {
			t.Errorf("paged fillers: %v", seen)
		}

		facts, _, err := kb.ListFacts(ctx, knowledge.FactFilter{Text: "free from"})
		if err != nil || len(facts) != 1 || facts[0].Name != "shipping.fee" {
			t.Errorf("facts by value: %v %+v", err, facts)
		}
		facts, _, err = kb.ListFacts(ctx, knowledge.FactFilter{Text: "MAIN-STREET"})
		if err != nil || len(facts) != 1 || facts[0].Name != "store.main-street.hours" {
			t.Errorf("facts by name: %v %+v", err, facts)
		}
	})
}
