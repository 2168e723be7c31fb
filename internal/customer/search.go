package customer

import (
	"context"
	"strings"
	"unicode"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
)

// Search finds customers by any identifier or by name: "ann@example.com",
// "+1 212 555 0100", "loyalty_card:LC123", "ann smi" (name words by prefix).
func (s *Service) Search(ctx context.Context, q string, limit int) ([]*Customer, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return []*Customer{}, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	var roots []id.ID
	add := func(r id.ID) {
		for _, v := range roots {
			if v == r {
				return
			}
		}
		roots = append(roots, r)
	}
	for _, ident := range s.identifierGuesses(q) {
		var root id.ID
		err := s.db.QueryRow(ctx, `SELECT c.root_id FROM identifiers i JOIN customers c ON c.id = i.customer_id
			WHERE i.kind = ? AND i.value = ?`, string(ident.Kind), ident.Value).Scan(&root)
		if err == nil {
			add(root)
		}
	}
	if len(roots) < limit {
		byName, err := s.searchNames(ctx, q, limit)
		if err != nil {
			return nil, err
		}
		for _, r := range byName {
			add(r)
		}
	}
	out := make([]*Customer, 0, len(roots))
	for _, r := range roots {
		if len(out) == limit {
			break
		}
		c, err := s.Get(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// identifierGuesses reads a search box entry as the identifiers it could be.
func (s *Service) identifierGuesses(q string) []identifier.Identifier {
	var out []identifier.Identifier
	try := func(kind, value string) {
		if ident, err := s.norm.Normalize(kind, value); err == nil {
			out = append(out, ident)
		}
	}
	if k, _, ok := strings.Cut(q, ":"); ok && !strings.Contains(k, " ") {
		if ident, err := s.norm.Parse(q); err == nil {
			out = append(out, ident)
		}
	}
	if strings.Contains(q, "@") {
		try("email", q)
		return out
	}
	digits := 0
	for _, r := range q {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	if digits >= 4 {
		try("phone", q)
		try("account", q)
		try("loyalty_card", q)
	}
	if !strings.ContainsAny(q, " \t") {
		try("user_id", q)
	}
	return out
}

func (s *Service) searchNames(ctx context.Context, q string, limit int) ([]id.ID, error) {
	toks := nameTokens(q)
	if len(toks) == 0 {
		return nil, nil
	}
	// The first word drives the index range scan; the others must match too.
	sqlq := `SELECT DISTINCT c.root_id FROM customer_name_tokens t JOIN customers c ON c.id = t.customer_id
		WHERE t.token >= ? AND t.token < ?`
	args := []any{toks[0], prefixEnd(toks[0])}
	for _, tok := range toks[1:] {
		sqlq += ` AND EXISTS (SELECT 1 FROM customer_name_tokens t2 WHERE t2.customer_id = t.customer_id AND t2.token >= ? AND t2.token < ?)`
		args = append(args, tok, prefixEnd(tok))
	}
	sqlq += " LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.Query(ctx, sqlq, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []id.ID
	for rows.Next() {
		var r id.ID
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// prefixEnd is an upper bound for strings that start with p: no valid UTF-8
// continues past U+10FFFF (binary collation on both databases).
func prefixEnd(p string) string { return p + "\U0010FFFF" }
