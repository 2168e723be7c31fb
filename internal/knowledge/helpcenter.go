package knowledge

import (
	"context"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Listing is a published article as a list shows it.
type Listing struct {
	ArticleID id.ID  `json:"article_id"`
	Slug      string `json:"slug"`
	Locale    string `json:"locale"`
	Title     string `json:"title"`
	Category  string `json:"category"`
}

// Category is a category with its number of visible published articles.
type Category struct {
	Name     string `json:"name"`
	Articles int    `json:"articles"`
}

// published is the condition on v (version) and a (article) for the
// published articles a viewer may see, in a locale or its language.
func published(viewer Audience, locale string) (string, []any) {
	cond, args := visibility(Query{Audience: viewer, Locale: locale})
	return "v.status = 'published' AND " + cond, args
}

// Locales lists the locales that have published articles the viewer may see.
func (s *Service) Locales(ctx context.Context, viewer Audience) ([]string, error) {
	cond, args := published(viewer, "")
	rows, err := s.db.Query(ctx, "SELECT DISTINCT a.locale FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id WHERE "+cond+" ORDER BY a.locale", args...)
	if err != nil {
		return nil, fmt.Errorf("listing locales: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Categories lists the categories of the articles a viewer may see, by name.
func (s *Service) Categories(ctx context.Context, viewer Audience, locale string) ([]Category, error) {
	cond, args := published(viewer, locale)
	rows, err := s.db.Query(ctx, "SELECT v.category, COUNT(*) FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id WHERE "+
		cond+" AND v.category <> '' GROUP BY v.category ORDER BY v.category", args...)
	if err != nil {
		return nil, fmt.Errorf("listing categories: %w", err)
	}
	defer rows.Close()
	out := []Category{}
	for rows.Next() {
		var c Category
		if err := rows.Scan(&c.Name, &c.Articles); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *Service) listings(ctx context.Context, query string, args ...any) ([]Listing, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing articles: %w", err)
	}
	defer rows.Close()
	out := []Listing{}
	for rows.Next() {
		var l Listing
		if err := rows.Scan(&l.ArticleID, &l.Slug, &l.Locale, &l.Title, &l.Category); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// InCategory lists the articles of a category a viewer may see, by title.
func (s *Service) InCategory(ctx context.Context, viewer Audience, locale, category string, limit int) ([]Listing, error) {
	cond, args := published(viewer, locale)
	return s.listings(ctx, "SELECT a.id, a.slug, a.locale, v.title, v.category FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id WHERE "+
		cond+" AND v.category = ? ORDER BY v.title, a.id LIMIT ?", append(args, category, min(max(limit, 1), 500))...)
}

// Popular lists the articles a viewer may see that were cited most since a
// time (on every contact point), then the newest ones to fill the list.
func (s *Service) Popular(ctx context.Context, viewer Audience, locale string, since time.Time, limit int) ([]Listing, error) {
	cond, args := published(viewer, locale)
	return s.listings(ctx, `SELECT a.id, a.slug, a.locale, v.title, v.category
		FROM kb_article_versions v JOIN kb_articles a ON a.id = v.article_id
		LEFT JOIN (SELECT target_id, COUNT(*) AS n FROM kb_citations WHERE kind = 'article' AND cited_at >= ? GROUP BY target_id) c ON c.target_id = a.id
		WHERE `+cond+` ORDER BY COALESCE(c.n, 0) DESC, a.id DESC LIMIT ?`,
		append(append([]any{since.UnixMicro()}, args...), min(max(limit, 1), 50))...)
}

// Deflected is the self-service figure of one category.
type Deflected struct {
	Category string `json:"category"`
	// Reads are article views (citations on page_view interactions) on
	// the contact point; Deflected those after which the customer made no
	// inbound conversation contact within 24 hours, on any contact point.
	Reads     int64   `json:"reads"`
	Deflected int64   `json:"deflected"`
	Rate      float64 `json:"rate"`
}

// DeflectionWindow is how long after reading an article a contact still
// counts against it.
const DeflectionWindow = 24 * time.Hour

// ConversationKinds are the interaction kinds that count as contacting the
// company: a read followed by one of these, inbound, was not deflected.
var ConversationKinds = []string{"message", "email", "chat", "sms", "call", "callback", "voicemail", "visit"}

// Deflection counts, per category, the article reads on a contact point in
// [from, to) and how many were deflected. Reads less than a day old cannot
// be decided yet, so to is capped at now minus the window. The customer is
// the whole merged group (root_id), so a contact by email after reading as
// an anonymous visitor who later gave that email counts.
func (s *Service) Deflection(ctx context.Context, contactPointID id.ID, from, to time.Time) ([]Deflected, error) {
	if latest := s.now().Add(-DeflectionWindow); to.After(latest) {
		to = latest
	}
	kinds := make([]any, len(ConversationKinds))
	for i, k := range ConversationKinds {
		kinds[i] = k
	}
	args := append([]any{DeflectionWindow.Microseconds()}, kinds...)
	args = append(args, contactPointID, from.UnixMicro(), to.UnixMicro())
	rows, err := s.db.Query(ctx, `SELECT v.category, COUNT(*), SUM(CASE WHEN EXISTS (
			SELECT 1 FROM customers g JOIN interactions i2 ON i2.customer_id = g.id
			WHERE g.root_id = c.root_id AND i2.direction = 'inbound'
			AND i2.occurred_at >= k.cited_at AND i2.occurred_at < k.cited_at + ?
			AND i2.kind IN (`+store.Placeholders(len(kinds))+`)) THEN 0 ELSE 1 END)
		FROM kb_citations k
		JOIN interactions i ON i.id = k.interaction_id
		JOIN customers c ON c.id = k.customer_id
		JOIN kb_article_versions v ON v.article_id = k.target_id AND v.version = k.version
		WHERE k.kind = 'article' AND i.kind = 'page_view' AND k.contact_point_id = ? AND k.cited_at >= ? AND k.cited_at < ?
		GROUP BY v.category ORDER BY v.category`, args...)
	if err != nil {
		return nil, fmt.Errorf("counting deflection: %w", err)
	}
	defer rows.Close()
	out := []Deflected{}
	for rows.Next() {
		var d Deflected
		if err := rows.Scan(&d.Category, &d.Reads, &d.Deflected); err != nil {
			return nil, err
		}
		if d.Reads > 0 {
			d.Rate = float64(d.Deflected) / float64(d.Reads)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
