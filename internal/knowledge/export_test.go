package knowledge

// SetRankBound lets tests reach the bounded ranking of SQLite search with few articles.
func (s *Service) SetRankBound(n int) { s.searchBound = n }
