package knowledge

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Query is a search of the published articles.
type Query struct {
	Text string
	// Audience is the viewer: public (default), kiosk or agents.
	Audience Audience
	// Locale keeps articles of that locale or its language ("pt-BR" also
	// finds "pt"); empty searches every locale.
	Locale string
	Limit  int // default 10, at most 50
	// NoGap keeps an empty result out of the content gaps (type-ahead
	// calls that are not a finished search).
	NoGap bool
}

// Hit is one article found.
type Hit struct {
	ArticleID id.ID    `json:"article_id"`
	Slug      string   `json:"slug"`
	Locale    string   `json:"locale"`
	Version   int      `json:"version"`
	Title     string   `json:"title"`
	Category  string   `json:"category"`
	Audience  Audience `json:"audience"`
	Rank      float64  `json:"rank"` // higher is better
	// TitleHTML and Snippet are escaped HTML whose only markup is <mark>
	// around the words that matched.
	TitleHTML template.HTML `json:"title_html"`
	Snippet   template.HTML `json:"snippet"`
}

const (
	maxQueryRunes = 200
	maxTerms      = 12
	maxExpansions = 24
)

// terms splits a query into lower-case words of letters and digits. Only
// these reach the database, each quoted, so no user input is ever query
// syntax: quotes, NEAR, *, :, parentheses and operators are just separators.
func terms(q string) (words []string, lastIsPrefix bool) {
	if utf8.RuneCountInString(q) > maxQueryRunes {
		q = string([]rune(q)[:maxQueryRunes])
	}
	q = strings.ToValidUTF8(q, " ")
	words = strings.FieldsFunc(strings.ToLower(q), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > maxTerms {
		words = words[:maxTerms]
	}
	// The last word is still being typed unless the query ends with a separator.
	lastIsPrefix = len(words) > 0 && strings.HasSuffix(strings.ToLower(q), words[len(words)-1])
	return words, lastIsPrefix
}

// Search finds the published articles the viewer may see, best first, with
// the last word also matched as a prefix. An empty result of a non-empty
// query is kept as a content gap. Query syntax cannot fail: see terms.
func (s *Service) Search(ctx context.Context, q Query) ([]Hit, error) {
	if q.Audience == "" {
		q.Audience = Public
	}
	if _, ok := ParseAudience(string(q.Audience)); !ok {
		return nil, errs.Invalidf("audience", "must be public, kiosk or agents")
	}
	if q.Locale != "" {
		l, err := checkLocale("locale", q.Locale, false)
		if err != nil {
			return nil, err
		}
		q.Locale = l
	}
	if q.Limit <= 0 {
		q.Limit = 10
	}
	q.Limit = min(q.Limit, 50)
	words, prefix := terms(q.Text)
	if len(words) == 0 {
		return []Hit{}, nil
	}
	var hits []Hit
	var err error
	if s.db.Dialect == store.Postgres {
		hits, err = s.searchPostgres(ctx, q, words, prefix)
	} else {
		hits, err = s.searchSQLite(ctx, q, words, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("searching articles: %w", err)
	}
	if err := s.resolveSnippets(ctx, hits, q.Locale); err != nil {
		return nil, err
	}
	if len(hits) == 0 && !q.NoGap {
		if err := s.recordGap(ctx, strings.Join(words, " "), q.Audience, q.Locale); err != nil {
			// A lost gap costs a statistic, not the search.
			s.log.Warn("recording a content gap failed", "err", err)
		}
	}
	return hits, nil
}

// visibility is the SQL condition and arguments for the viewer's audiences and locale.
func visibility(q Query) (string, []any) {
	sees := q.Audience.Sees()
	cond := "v.audience IN (" + store.Placeholders(len(sees)) + ")"
	var args []any
	for _, a := range sees {
		args = append(args, string(a))
	}
	if q.Locale != "" {
		cond += " AND a.locale IN (?, ?)"
		args = append(args, q.Locale, language(q.Locale))
	}
	return cond, args
}

// searchSQLite ranks with bm25 (title ten times the body) over kb_search,
// porter-stemmed. The last word is matched as itself (stemmed) or as any of
// the whole words it begins, read from the unstemmed kb_terms vocabulary:
// "shipp" becomes ("shipp" OR "shipped" OR "shipping"), each then stemmed.
func (s *Service) searchSQLite(ctx context.Context, q Query, words []string, prefix bool) ([]Hit, error) {
	parts := make([]string, 0, len(words))
	for _, w := range words[:len(words)-1] {
		parts = append(parts, `"`+w+`"`)
	}
	last := words[len(words)-1]
	alts := []string{`"` + last + `"`}
	if prefix && len(last) >= 2 {
		rows, err := s.db.Query(ctx, "SELECT term FROM kb_terms WHERE term > ? AND term < ? LIMIT ?", foldAccents(last), foldAccents(last)+"\U0010FFFF", maxExpansions)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return nil, err
			}
			alts = append(alts, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	parts = append(parts, "("+strings.Join(alts, " OR ")+")")
	match := strings.Join(parts, " AND ")
	cond, args := visibility(q)
	// bm25 costs microseconds a match, so words found in nearly every
	// article (ranking 100,000 matches) would take half a second. Counting
	// matches up to a bound is cheap; past it the page is picked from
	// bounded candidate sets (see pickMany).
	var many bool
	if err := s.db.QueryRow(ctx, "SELECT count(*) > ? FROM (SELECT rowid FROM kb_search WHERE kb_search MATCH ? LIMIT ?)",
		s.rankBound(), match, s.rankBound()+1).Scan(&many); err != nil {
		return nil, err
	}
	var top string
	var all []any
	if many {
		from := ` JOIN kb_article_versions v ON v.id = %[1]s.rowid JOIN kb_articles a ON a.id = v.article_id
			WHERE %[1]s MATCH ? AND ` + cond
		picked, err := s.pickMany(q,
			`SELECT kb_titles.rowid, length(v.title) FROM kb_titles`+fmt.Sprintf(from, "kb_titles")+` ORDER BY kb_titles.rowid DESC LIMIT ?`,
			`SELECT kb_search.rowid, 0 FROM kb_search`+fmt.Sprintf(from, "kb_search")+` ORDER BY kb_search.rowid DESC LIMIT ?`,
			append([]any{match}, args...), func(q string, args ...any) (*sql.Rows, error) { return s.db.Query(ctx, q, args...) })
		if err != nil || len(picked) == 0 {
			return []Hit{}, err
		}
		rows := make([]string, len(picked))
		for i, p := range picked {
			rows[i] = "(?, ?, ?)"
			all = append(all, p.vid, p.group, -p.rank) // lower is better, like bm25
		}
		top = `top(vid, g, rank) AS MATERIALIZED (VALUES ` + strings.Join(rows, ", ") + `)`
	} else {
		top = `top AS MATERIALIZED (SELECT kb_search.rowid AS vid, 0 AS g, bm25(kb_search, 10.0, 1.0) AS rank
			FROM kb_search JOIN kb_article_versions v ON v.id = kb_search.rowid JOIN kb_articles a ON a.id = v.article_id
			WHERE kb_search MATCH ? AND ` + cond + ` ORDER BY rank LIMIT ?)`
		all = append(append([]any{match}, args...), q.Limit)
	}
	// Ranking first, snippets only for the page: snippet() reads and
	// tokenizes each document again, which over every match would cost more
	// than the search. The page's few rows drive the join (MATERIALIZED,
	// CROSS JOIN): left to itself the planner scanned every match of the
	// text search and looked each up in the page, 0.4 s over 100,000
	// articles whatever the words. No bm25 here: each row's lookup starts
	// the text query again, and bm25 counts the documents of every word
	// again with it (5 ms a row for a word in every article). No ORDER BY
	// either: sorting made SQLite run the snippets after the sort, slowly.
	query := `WITH ` + top + `
	SELECT top.g, top.rank, v.article_id, a.slug, a.locale, v.version, v.title, v.category, v.audience,
		highlight(kb_search, 0, char(1), char(2)), snippet(kb_search, 1, char(1), char(2), '…', 24)
	FROM top CROSS JOIN kb_search ON kb_search.rowid = top.vid JOIN kb_article_versions v ON v.id = top.vid JOIN kb_articles a ON a.id = v.article_id
	WHERE kb_search MATCH ?`
	all = append(all, match)
	return s.page(ctx, query, all, -1) // bm25 is lower for better matches
}

// picked is a version chosen for the page: group 0 matched in the title,
// group 1 in the body only; rank is higher for better.
type picked struct {
	vid   id.ID
	group int
	rank  float64
}

// pickMany chooses the page of a search with more matches than the rank
// bound without ranking every match: bm25's document counts alone cost
// milliseconds for words in most articles, and ts_rank reads every match.
// Both stores stop reading matches at a LIMIT, so bounded candidate sets
// are cheap. titled and body are the store's queries of (version id, title
// length) of the title matches and of all matches, in the order the store
// finds them cheapest (SQLite: newest first; PostgreSQL: as stored), each
// with args and then the LIMIT:
//   - up to 150 title matches, shortest title first (a title that is
//     little more than the words is about them);
//   - only when they do not fill the page, body matches.
//
// When every article has the words, the words tell little apart; the
// title is what does.
func (s *Service) pickMany(q Query, titled, body string, args []any, query func(string, ...any) (*sql.Rows, error)) ([]picked, error) {
	read := func(stmt string, limit int) ([]picked, error) {
		rows, err := query(stmt, append(append([]any{}, args...), limit)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []picked
		for rows.Next() {
			var p picked
			var titleLen float64
			if err := rows.Scan(&p.vid, &titleLen); err != nil {
				return nil, err
			}
			p.rank = 10 / (10 + titleLen)
			out = append(out, p)
		}
		return out, rows.Err()
	}
	out, err := read(titled, max(s.rankBound()/2, q.Limit))
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].rank > out[j].rank })
	out = out[:min(len(out), q.Limit)]
	if len(out) == q.Limit {
		return out, nil
	}
	seen := map[id.ID]bool{}
	for _, p := range out {
		seen[p.vid] = true
	}
	more, err := read(body, q.Limit+len(out))
	if err != nil {
		return nil, err
	}
	for i, p := range more {
		if len(out) == q.Limit {
			break
		}
		if !seen[p.vid] {
			out = append(out, picked{vid: p.vid, group: 1, rank: 1 / float64(2+i)})
		}
	}
	return out, nil
}

// defaultRankBound is how many matches a search ranks in full (bm25 or
// ts_rank); a search matching more has its page picked (pickMany).
const defaultRankBound = 300

func (s *Service) rankBound() int {
	if s.searchBound > 0 {
		return s.searchBound
	}
	return defaultRankBound
}

// headlineOptions mark matches with \x01 and \x02 (escaped and replaced by
// <mark> in Go, because ts_headline does not escape the document).
const titleHeadlineOptions = "HighlightAll=true, StartSel=\"\x01\", StopSel=\"\x02\""

const headlineOptions = "StartSel=\"\x01\", StopSel=\"\x02\", MaxWords=24, MinWords=10, ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \""

// searchPostgres ranks with ts_rank over the generated tsvector (title A,
// body B, normalized by length) through the partial GIN index. Words go in
// through plainto_tsquery('english'), which stems them and cannot fail on
// any input; the last word is also a 'simple' prefix query.
func (s *Service) searchPostgres(ctx context.Context, q Query, words []string, prefix bool) ([]Hit, error) {
	var tsq []string
	var args []any
	if len(words) > 1 {
		tsq, args = append(tsq, "plainto_tsquery('english', ?)"), append(args, strings.Join(words[:len(words)-1], " "))
	}
	last := words[len(words)-1]
	if prefix && len(last) >= 2 {
		tsq, args = append(tsq, "(plainto_tsquery('english', ?) || to_tsquery('simple', ?))"), append(args, last, last+":*")
	} else {
		tsq, args = append(tsq, "plainto_tsquery('english', ?)"), append(args, last)
	}
	cond, vargs := visibility(q)
	withQ := `WITH q AS (SELECT ` + strings.Join(tsq, " && ") + ` AS q)`
	// As on SQLite: ts_rank over every match reads them all (0.7 s for a
	// word in 100,000 articles), so past the bound the page is picked.
	many, known, dense, err := s.manyByStatistics(ctx, words, prefix && len(last) >= 2)
	if err != nil {
		return nil, err
	}
	if !known {
		if err := s.db.QueryRowPlannedEach(ctx, withQ+` SELECT count(*) > ? FROM (SELECT 1 FROM kb_article_versions v, q WHERE v.status = 'published' AND v.search @@ q.q LIMIT ?) m`,
			append(append([]any{}, args...), s.rankBound(), s.rankBound()+1)...).Scan(&many); err != nil {
			return nil, err
		}
	}
	var top string
	var all []any
	if many {
		// No ORDER BY: with one, the planner walked the primary key
		// backwards testing every row (1.3 s for a word in 1% of
		// articles); without, a scan stops at the LIMIT. Unless every
		// word is known to be common, no sequential scan either: a planner
		// that expects many matches scans the table until it has enough,
		// all of it when a rare word leaves none (0.8 s for "delivery
		// time", as the vocabulary has no "time"), where the GIN index
		// answers in a millisecond.
		from := ` FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id, q WHERE v.status = 'published' AND %s @@ q.q AND ` + cond + ` LIMIT ?`
		pick := func(query func(string, ...any) (*sql.Rows, error)) ([]picked, error) {
			return s.pickMany(q, withQ+` SELECT v.id, length(v.title)`+fmt.Sprintf(from, titleVector),
				withQ+` SELECT v.id, 0`+fmt.Sprintf(from, "v.search"), append(append([]any{}, args...), vargs...), query)
		}
		var chosen []picked
		if dense {
			chosen, err = pick(func(q string, args ...any) (*sql.Rows, error) { return s.db.QueryPlannedEach(ctx, q, args...) })
		} else {
			err = s.db.ReadIndexed(ctx, func(query func(string, ...any) (*sql.Rows, error)) error {
				var err error
				chosen, err = pick(query)
				return err
			})
		}
		if err != nil || len(chosen) == 0 {
			return []Hit{}, err
		}
		rows := make([]string, len(chosen))
		all = append(all, args...)
		for i, p := range chosen {
			rows[i] = "(?::bigint, ?::int, ?::float8)"
			all = append(all, p.vid, p.group, p.rank)
		}
		top = `top(id, g, rank) AS (VALUES ` + strings.Join(rows, ", ") + `)`
	} else {
		top = `top AS (
		SELECT v.id, 0 AS g, ts_rank(v.search, q.q, 1) AS rank
		FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id, q
		WHERE v.status = 'published' AND v.search @@ q.q AND ` + cond + `
		ORDER BY rank DESC, v.id LIMIT ?)`
		all = append(append(append(all, args...), vargs...), q.Limit)
	}
	query := withQ + `, ` + top + `
	SELECT top.g, top.rank, v.article_id, a.slug, a.locale, v.version, v.title, v.category, v.audience,
		ts_headline('english', v.title, q.q, ?), ts_headline('english', v.search_body, q.q, ?)
	FROM top JOIN kb_article_versions v ON v.id = top.id JOIN kb_articles a ON a.id = v.article_id, q`
	all = append(all, titleHeadlineOptions, headlineOptions)
	return s.page(ctx, query, all, 1)
}

// manyByStatistics tells from PostgreSQL's lexeme statistics whether a
// search has more matches than the rank bound; known is false while there
// are none (a table never analyzed), and the matches are counted instead.
// dense says every word is common enough to be listed in the statistics,
// so matches are everywhere and a scan that stops at a LIMIT is cheap.
func (s *Service) manyByStatistics(ctx context.Context, words []string, prefix bool) (many, known, dense bool, err error) {
	st, err := s.lexemeStatistics(ctx)
	if err != nil || st == nil {
		return false, false, false, err
	}
	stems, err := s.englishStems(ctx, words)
	if err != nil {
		return false, false, false, err
	}
	est, listed := st.estimateMatches(words, stems, prefix)
	return est > float64(s.rankBound()), true, listed, nil
}

// titleVector is the PostgreSQL title's lexemes (migration 0017).
const titleVector = "v.title_search"

// rankedHit is a hit with its group (title matches first), before sorting.
type rankedHit struct {
	hit   Hit
	group int
}

// page reads the rows of a page statement (group, rank, the hit's columns,
// marked title and snippet), turns the rank so that higher is better
// (sign), and sorts them.
func (s *Service) page(ctx context.Context, query string, args []any, sign float64) ([]Hit, error) {
	rows, err := s.db.QueryPlannedEach(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []rankedHit
	for rows.Next() {
		var r rankedHit
		var title, snip string
		h := &r.hit
		if err := rows.Scan(&r.group, &h.Rank, &h.ArticleID, &h.Slug, &h.Locale, &h.Version, &h.Title, &h.Category, &h.Audience, &title, &snip); err != nil {
			return nil, err
		}
		h.Rank *= sign
		h.TitleHTML, h.Snippet = template.HTML(title), template.HTML(snip)
		got = append(got, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return sortHits(got), nil
}

// sortHits orders a page: title group first, then higher rank, then id.
func sortHits(got []rankedHit) []Hit {
	sort.Slice(got, func(i, j int) bool {
		if got[i].group != got[j].group {
			return got[i].group < got[j].group
		}
		if got[i].hit.Rank != got[j].hit.Rank {
			return got[i].hit.Rank > got[j].hit.Rank
		}
		return got[i].hit.ArticleID < got[j].hit.ArticleID
	})
	hits := make([]Hit, len(got))
	for i, r := range got {
		hits[i] = r.hit
	}
	return hits
}

// resolveSnippets turns the raw marked title and snippet of each hit into
// escaped HTML with <mark>, fact tags replaced by their current values
// (the index keeps the tags, so a snippet never shows an old value).
func (s *Service) resolveSnippets(ctx context.Context, hits []Hit, locale string) error {
	var names []string
	for _, h := range hits {
		names = append(names, tagNames(string(h.Snippet))...)
		names = append(names, tagNames(string(h.TitleHTML))...)
	}
	vals, err := s.resolveFacts(ctx, s.db, names, locale)
	if err != nil {
		return err
	}
	for i := range hits {
		hits[i].TitleHTML = markedHTML(string(hits[i].TitleHTML), vals)
		hits[i].Snippet = markedHTML(trimPartialTags(string(hits[i].Snippet)), vals)
	}
	return nil
}

// trimPartialTags drops a fact tag cut in half at either end of a snippet.
func trimPartialTags(s string) string {
	if i := strings.LastIndex(s, "{{"); i >= 0 && !strings.Contains(s[i:], "}}") {
		s = s[:i] + "…"
	}
	if i := strings.Index(s, "}}"); i >= 0 && !strings.Contains(s[:i], "{{") {
		s = "…" + s[i+2:]
	}
	return s
}

// markedHTML escapes s, replaces fact tags with values, and turns the
// \x01/\x02 marks into balanced <mark> elements.
func markedHTML(s string, vals map[string]FactValue) template.HTML {
	s = factTag.ReplaceAllStringFunc(s, func(tag string) string {
		n := stripMarks(factTag.FindStringSubmatch(tag)[1])
		if v, ok := vals[n]; ok {
			return v.Value
		}
		return missingFact(n)
	})
	var b strings.Builder
	open := false
	start := 0
	flush := func(end int) { b.WriteString(html.EscapeString(s[start:end])) }
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\x01':
			flush(i)
			if !open {
				b.WriteString("<mark>")
				open = true
			}
			start = i + 1
		case '\x02':
			flush(i)
			if open {
				b.WriteString("</mark>")
				open = false
			}
			start = i + 1
		}
	}
	flush(len(s))
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// Gap is a search that found nothing, counted per query, audience and locale.
type Gap struct {
	Query     string    `json:"query"`
	Audience  Audience  `json:"audience"`
	Locale    string    `json:"locale"`
	Searches  int64     `json:"searches"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

func (s *Service) recordGap(ctx context.Context, query string, audience Audience, locale string) error {
	now := s.now().UnixMicro()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kb_gaps (query, audience, locale, searches, first_seen, last_seen) VALUES (?, ?, ?, 1, ?, ?)
			ON CONFLICT (query, audience, locale) DO UPDATE SET searches = kb_gaps.searches + 1, last_seen = excluded.last_seen`,
			query, string(audience), locale, now, now)
		return err
	})
}

// GapFilter narrows Gaps.
type GapFilter struct {
	Since    time.Time // last seen at or after
	Audience Audience
	Locale   string
	Limit    int // default 100, at most 1000
}

// Gaps lists the searches that found nothing, most frequent first.
func (s *Service) Gaps(ctx context.Context, f GapFilter) ([]Gap, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	where, args := []string{"last_seen >= ?"}, []any{f.Since.UnixMicro()}
	if f.Audience != "" {
		where, args = append(where, "audience = ?"), append(args, string(f.Audience))
	}
	if f.Locale != "" {
		where, args = append(where, "locale = ?"), append(args, f.Locale)
	}
	rows, err := s.db.Query(ctx, "SELECT query, audience, locale, searches, first_seen, last_seen FROM kb_gaps WHERE "+
		strings.Join(where, " AND ")+" ORDER BY searches DESC, last_seen DESC, query LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing content gaps: %w", err)
	}
	defer rows.Close()
	out := []Gap{}
	for rows.Next() {
		var g Gap
		var first, last int64
		if err := rows.Scan(&g.Query, &g.Audience, &g.Locale, &g.Searches, &first, &last); err != nil {
			return nil, err
		}
		g.FirstSeen, g.LastSeen = micros(first), micros(last)
		out = append(out, g)
	}
	return out, rows.Err()
}
