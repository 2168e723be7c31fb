package knowledge

import (
	"context"

	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// SetRankBound lets tests reach the bounded ranking of SQLite search with few articles.
func (s *Service) SetRankBound(n int) { s.searchBound = n }

// AddTerms is what publishing adds to the SQLite search vocabulary, for the
// benchmark that fills its store with SQL.
func AddTerms(ctx context.Context, tx *store.Tx, texts ...string) error {
	return addTerms(ctx, tx, texts...)
}
