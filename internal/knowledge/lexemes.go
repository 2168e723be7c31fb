package knowledge

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// On PostgreSQL, counting whether a search has more matches than the rank
// bound costs as much as the search when the planner misjudges the words
// (a rare word typed as a prefix was estimated at 9% of the articles and
// scanned for: 20–85 ms). The statistics ANALYZE keeps of the search
// column's most common lexemes say the same thing for the price of a map
// lookup: a lexeme among them has its frequency, any other is rarer than
// the least of them.

// lexemeStatsTTL is how long the statistics are kept; ANALYZE runs far
// less often.
const lexemeStatsTTL = 5 * time.Minute

type lexemeStats struct {
	freq map[string]float64 // share of the rows having the lexeme
	min  float64            // the smallest share listed: anything else is rarer
	rows float64            // rows of kb_article_versions, as last analyzed
}

type lexemeCache struct {
	mu    sync.Mutex
	at    time.Time
	stats *lexemeStats // nil: none yet (never analyzed)
}

// lexemeStatistics returns the current statistics, or nil before the
// table was analyzed. One caller at a time reads them again when they are
// old; the others go on with the old ones meanwhile.
func (s *Service) lexemeStatistics(ctx context.Context) (*lexemeStats, error) {
	c := &s.lexemes
	c.mu.Lock()
	if !c.at.IsZero() && s.now().Sub(c.at) < lexemeStatsTTL {
		st := c.stats
		c.mu.Unlock()
		return st, nil
	}
	old, first := c.stats, c.at.IsZero()
	if !first {
		c.at = s.now() // claimed: the others keep the old ones until this read ends
	}
	c.mu.Unlock()
	st, err := s.readLexemeStatistics(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		if !first {
			return old, nil // an old estimate is still an estimate
		}
		return nil, err
	}
	c.at, c.stats = s.now(), st
	return st, nil
}

// readLexemeStatistics reads pg_stats: nil when the table was never
// analyzed.
func (s *Service) readLexemeStatistics(ctx context.Context) (*lexemeStats, error) {
	st := &lexemeStats{freq: map[string]float64{}}
	rows, err := s.db.Query(ctx, `SELECT u.e, u.f FROM pg_stats s,
		unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(e, f)
		WHERE s.schemaname = current_schema() AND s.tablename = 'kb_article_versions' AND s.attname = 'search' AND u.e IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("reading search statistics: %w", err)
	}
	for rows.Next() {
		var e string
		var f float64
		if err := rows.Scan(&e, &f); err != nil {
			rows.Close()
			return nil, err
		}
		st.freq[e] = f
		if st.min == 0 || f < st.min {
			st.min = f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := s.db.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = 'kb_article_versions'::regclass").Scan(&st.rows); err != nil {
		return nil, fmt.Errorf("reading the table size: %w", err)
	}
	if len(st.freq) == 0 || st.rows <= 0 {
		return nil, nil
	}
	return st, nil
}

// estimateMatches estimates how many versions match the search of words
// (the last one also as a prefix when prefix), from the statistics:
// words are taken as independent, a word's share is its English stem's
// (and, for the prefix, every listed whole word it begins), and a word not
// listed has half the smallest listed share. stems are the English stems
// of each word (none for a stop word, which the search leaves out).
// listed is false when a word was not listed: its share is a guess.
func (st *lexemeStats) estimateMatches(words []string, stems [][]string, prefix bool) (matches float64, listed bool) {
	share, listed := 1.0, true
	for i, w := range words {
		if len(stems[i]) == 0 && !(prefix && i == len(words)-1) {
			continue
		}
		f := 0.0
		for _, stem := range stems[i] {
			f = max(f, st.freq[stem])
		}
		if prefix && i == len(words)-1 {
			for e, ef := range st.freq {
				if strings.HasPrefix(e, w) && e != w {
					f += ef
				}
			}
			f = max(f, st.freq[w])
		}
		if f == 0 {
			f, listed = st.min/2, false
		}
		share *= min(f, 1)
	}
	return share * st.rows, listed
}

// englishStems asks PostgreSQL for the English stems of each word.
func (s *Service) englishStems(ctx context.Context, words []string) ([][]string, error) {
	vals := make([]string, len(words))
	args := make([]any, 0, 2*len(words))
	for i, w := range words {
		vals[i] = "(?::int, ?::text)"
		args = append(args, i, w)
	}
	rows, err := s.db.Query(ctx, `SELECT v.i, l.lexeme FROM (VALUES `+strings.Join(vals, ", ")+`) v(i, w),
		unnest(to_tsvector('english', v.w)) l`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([][]string, len(words))
	for rows.Next() {
		var i int
		var lex string
		if err := rows.Scan(&i, &lex); err != nil {
			return nil, err
		}
		if i >= 0 && i < len(out) {
			out[i] = append(out[i], lex)
		}
	}
	return out, rows.Err()
}
