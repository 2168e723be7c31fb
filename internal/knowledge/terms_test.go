package knowledge_test

import (
	"context"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// The word being typed expands to the whole words of published articles,
// accents or not, and a word only in a draft expands to nothing public.
func TestPrefixFindsWholeWordsOfPublishedArticles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		kb := knowledge.NewService(db, nil)
		publishArticle(t, kb, "cafe-corner", "The café corner", "Our stores serve coffee at the Crème counter.", knowledge.Public)
		publishArticle(t, kb, "pickup", "Pick-up lockers", "Collect parcels from a locker.", knowledge.Public)
		if _, err := kb.CreateArticle(ctx, knowledge.ArticleSpec{Slug: ptr("draft"), Title: ptr("Zeppelin delivery"),
			Body: ptr("Soon."), Audience: ptr("public")}, editor); err != nil {
			t.Fatal(err)
		}
		queries := map[string]string{"caf": "cafe-corner", "crè": "cafe-corner", "lock": "pickup", "pick": "pickup"}
		if db.Dialect == store.SQLite {
			// Accents are folded on SQLite only: PostgreSQL's 'simple'
			// prefix lexemes keep them (unaccent is an extension).
			queries["cre"] = "cafe-corner"
		}
		for q, want := range queries {
			hits, err := kb.Search(ctx, knowledge.Query{Text: q, NoGap: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != 1 || hits[0].Slug != want {
				t.Errorf("%q found %+v; want %s alone", q, hits, want)
			}
		}
		if hits, err := kb.Search(ctx, knowledge.Query{Text: "zepp", NoGap: true}); err != nil || len(hits) != 0 {
			t.Errorf("a draft's word found %+v (%v)", hits, err)
		}
	})
}
