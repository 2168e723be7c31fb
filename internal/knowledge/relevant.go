package knowledge

import (
	"context"
	"sort"
	"strings"
	"unicode"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// stopWords are left out of the words a conversation is matched with:
// every search is an AND of its words, so one word is searched at a time
// and common words would match everything.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the and for you your are was were has have had not but with this that what when where which who how why
		can could would should will from about into there their they them our ours out off any all just its it's hello dear thanks thank please
		regards best hi hey yes get got also been being does did one some more very than then too is a an to of in on at by or be do i me my we us
		much many want need know tell`) {
		m[w] = true
	}
	return m
}()

// Keywords picks up to limit words of texts, in order, lower-cased,
// without stop words, words under three letters or repeats: what a
// customer's message is about ("How much is shipping to Leeds?" gives
// shipping, leeds).
func Keywords(limit int, texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len([]rune(w)) < 3 || stopWords[w] || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
			if len(out) == limit {
				return out
			}
		}
	}
	return out
}

// Relevant finds the published articles the audience may see that match
// the most of words: each word is searched alone (whole words, no prefix),
// an article scores one for each word it matches and its rank breaks ties.
// A sentence rarely has all its words in one article, so an AND of them
// would mostly find nothing.
func (s *Service) Relevant(ctx context.Context, words []string, audience Audience, locale string, limit int) ([]Hit, error) {
	type scored struct {
		hit   Hit
		score float64
	}
	byID := map[id.ID]*scored{}
	for _, w := range words {
		// A trailing space: whole words only, no type-ahead prefix.
		hits, err := s.Search(ctx, Query{Text: w + " ", Audience: audience, Locale: locale, Limit: 5, NoGap: true})
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			sc := byID[h.ArticleID]
			if sc == nil {
				sc = &scored{hit: h}
				byID[h.ArticleID] = sc
			}
			sc.score += 1 + h.Rank/(1+h.Rank) // each word counts most; rank breaks ties
		}
	}
	ranked := make([]*scored, 0, len(byID))
	for _, sc := range byID {
		ranked = append(ranked, sc)
	}
	sort.Slice(ranked, func(i, j int) bool {
		if ranked[i].score != ranked[j].score {
			return ranked[i].score > ranked[j].score
		}
		return ranked[i].hit.ArticleID < ranked[j].hit.ArticleID
	})
	out := make([]Hit, 0, min(len(ranked), limit))
	for _, sc := range ranked[:min(len(ranked), limit)] {
		out = append(out, sc.hit)
	}
	return out, nil
}
