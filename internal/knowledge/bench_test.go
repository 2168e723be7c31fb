package knowledge_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/knowledge"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// benchArticles is the size of the search benchmark's knowledge base.
const benchArticles = 100_000

var (
	benchOnce sync.Once
	benchDB   *store.DB
	benchKB   *knowledge.Service
	benchErr  error
)

// benchWords is the vocabulary: some words customers search for, then
// generated ones; drawn with a Zipf distribution so that a few words are
// in many articles and most in few, as in real text.
func benchWords() []string {
	words := strings.Fields(`shipping delivery return refund order payment invoice bill store hours
		kiosk account password card loyalty points warranty repair technician visit cancel change address
		exchange gift voucher discount price fee charge parcel tracking courier pickup international customs`)
	r := rand.New(rand.NewPCG(7, 7))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for len(words) < 5000 {
		n := 4 + r.IntN(6)
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		words = append(words, string(b))
	}
	return words
}

// openBench fills a store (SQLite unless TOUCHPOINT_KB_BENCH_POSTGRES) with benchArticles published articles
// (fixed seed), once per test binary run.
func openBench(b *testing.B) (*knowledge.Service, []string) {
	words := benchWords()
	benchOnce.Do(func() {
		// TOUCHPOINT_KB_BENCH_DIR keeps the store between runs (filled once).
		dir := os.Getenv("TOUCHPOINT_KB_BENCH_DIR")
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "kbbench"); err != nil {
				benchErr = err
				return
			}
		}
		ctx := context.Background()
		// TOUCHPOINT_KB_BENCH_POSTGRES runs it on PostgreSQL instead, e.g.
		// postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=kbbench
		// (the schema must exist; it is filled once and kept).
		benchDB, benchErr = store.Open(ctx, store.Config{DataDir: dir, URL: os.Getenv("TOUCHPOINT_KB_BENCH_POSTGRES")})
		if benchErr != nil {
			return
		}
		benchKB = knowledge.NewService(benchDB, nil)
		var have int
		if benchErr = benchDB.QueryRow(ctx, "SELECT COUNT(*) FROM kb_articles").Scan(&have); benchErr != nil || have >= benchArticles {
			return
		}
		r := rand.New(rand.NewPCG(42, 42))
		zipf := rand.NewZipf(r, 1.1, 1, uint64(len(words)-1))
		text := func(n int) string {
			var sb strings.Builder
			for i := range n {
				if i > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(words[zipf.Uint64()])
			}
			return sb.String()
		}
		audiences := []string{"public", "public", "public", "kiosk", "agents"}
		now := time.Now().UnixMicro()
		const batch = 2000
		for start := 0; start < benchArticles && benchErr == nil; start += batch {
			benchErr = benchDB.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
				for i := start; i < start+batch; i++ {
					aid, vid := tx.NewID(), tx.NewID()
					if _, err := tx.Exec(ctx, "INSERT INTO kb_articles (id, slug, locale, created_at, updated_at) VALUES (?, ?, 'en', ?, ?)",
						aid, fmt.Sprintf("article-%d", i), now, now); err != nil {
						return err
					}
					title, body := text(4+r.IntN(5)), text(60+r.IntN(120))
					if _, err := tx.Exec(ctx, `INSERT INTO kb_article_versions (id, article_id, version, status, title, body, search_body, category, audience,
						created_by, created_at, updated_by, updated_at) VALUES (?, ?, 1, 'in_review', ?, ?, ?, 'bench', ?, 'bench', ?, 'bench', ?)`,
						vid, aid, title, body, body, audiences[r.IntN(len(audiences))], now, now); err != nil {
						return err
					}
					// The real path: the status change indexes the version,
					// and publishing adds its words to the vocabulary.
					if _, err := tx.Exec(ctx, "UPDATE kb_article_versions SET status = 'published', published_at = ? WHERE id = ?", now, vid); err != nil {
						return err
					}
					if err := knowledge.AddTerms(ctx, tx, title, body); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchKB, words
}

// BenchmarkSearch100k measures search over 100,000 published articles on
// SQLite with a mix of queries: common and rare words, two-word queries,
// prefixes of the last word, each for a public or an agents viewer. It
// reports p50 and p99 latency.
func BenchmarkSearch100k(b *testing.B) {
	kb, words := openBench(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	queries := []string{"shipping", "delivery time", "return refund", "shipp", "deliv", "store hours", "kiosk pass", "international customs fee"}
	for range 200 {
		w1, w2 := words[r.IntN(len(words))], words[r.IntN(len(words))]
		queries = append(queries, w1, w1+" "+w2, w1+" "+w2[:3])
	}
	var lat []time.Duration
	worst := map[string]time.Duration{}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		aud := knowledge.Public
		if i%2 == 1 {
			aud = knowledge.Agents
		}
		t0 := time.Now()
		if _, err := kb.Search(ctx, knowledge.Query{Text: queries[i%len(queries)], Audience: aud, NoGap: true}); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		lat = append(lat, d)
		q := queries[i%len(queries)]
		worst[q] = max(worst[q], d)
	}
	b.StopTimer()
	slow := slices.SortedFunc(func(yield func(string) bool) {
		for q := range worst {
			if !yield(q) {
				return
			}
		}
	}, func(x, y string) int { return int(worst[y] - worst[x]) })
	for _, q := range slow[:min(5, len(slow))] {
		b.Logf("slowest: %q %v", q, worst[q])
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}
