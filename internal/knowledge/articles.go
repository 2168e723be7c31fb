package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/keyset"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// maxBody bounds an article body (Markdown) in bytes.
const maxBody = 200_000

// Article is an article and the versions that matter now.
type Article struct {
	ID        id.ID           `json:"id"`
	Slug      string          `json:"slug"`
	Locale    string          `json:"locale"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Published *ArticleVersion `json:"published,omitempty"` // the current answer
	Open      *ArticleVersion `json:"open,omitempty"`      // the draft or the version in review
}

// ArticleVersion is one version of an article.
type ArticleVersion struct {
	ArticleID id.ID    `json:"article_id"`
	Version   int      `json:"version"`
	Status    Status   `json:"status"`
	Title     string   `json:"title"`
	Body      string   `json:"body"` // Markdown with {{fact "name"}} tags
	Category  string   `json:"category"`
	Audience  Audience `json:"audience"`
	Stamps
}

// ArticleSpec is the content of a draft. On create, slug, title, body and
// audience are required and locale defaults to "en"; on a new draft or an
// update, fields left out keep their values (a new draft starts from the
// latest version).
type ArticleSpec struct {
	Slug     *string `json:"slug,omitempty"`
	Locale   *string `json:"locale,omitempty"`
	Title    *string `json:"title,omitempty"`
	Body     *string `json:"body,omitempty"`
	Category *string `json:"category,omitempty"`
	Audience *string `json:"audience,omitempty"`
}

// apply checks spec's content fields and writes them over v.
func (spec ArticleSpec) apply(v *ArticleVersion) error {
	if spec.Title != nil {
		t, err := checkText("title", *spec.Title, true, 200)
		if err != nil {
			return err
		}
		v.Title = t
	}
	if spec.Body != nil {
		b := strings.TrimSpace(cleanText(*spec.Body))
		if b == "" {
			return errs.Invalidf("body", "is required")
		}
		if len(b) > maxBody {
			return errs.Invalidf("body", "must be at most %d bytes", maxBody)
		}
		v.Body = b
	}
	if spec.Category != nil {
		c, err := checkText("category", *spec.Category, false, 100)
		if err != nil {
			return err
		}
		v.Category = c
	}
	if spec.Audience != nil {
		a, ok := ParseAudience(*spec.Audience)
		if !ok {
			return errs.Invalidf("audience", "must be public, kiosk or agents")
		}
		v.Audience = a
	}
	return nil
}

// CreateArticle creates an article with its first version as a draft.
func (s *Service) CreateArticle(ctx context.Context, spec ArticleSpec, actor string) (*Article, error) {
	if spec.Slug == nil {
		return nil, errs.Invalidf("slug", "is required")
	}
	slug := strings.TrimSpace(*spec.Slug)
	if len(slug) > 100 || !slugRE.MatchString(slug) {
		return nil, errs.Invalidf("slug", "must be lower-case letters and digits separated by single hyphens, at most 100 characters")
	}
	locale := "en"
	if spec.Locale != nil {
		l, err := checkLocale("locale", *spec.Locale, false)
		if err != nil {
			return nil, err
		}
		locale = l
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"title", spec.Title}, {"body", spec.Body}, {"audience", spec.Audience}} {
		if f.v == nil {
			return nil, errs.Invalidf(f.name, "is required")
		}
	}
	var v ArticleVersion
	if err := spec.apply(&v); err != nil {
		return nil, err
	}
	now := s.now()
	var articleID id.ID
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		articleID = tx.NewID()
		if _, err := tx.Exec(ctx, "INSERT INTO kb_articles (id, slug, locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			articleID, slug, locale, now.UnixMicro(), now.UnixMicro()); err != nil {
			if store.IsUniqueViolation(err) {
				return &errs.Invalid{Field: "slug", Reason: fmt.Sprintf("an article %q in locale %s exists already", slug, locale)}
			}
			return err
		}
		return insertArticleVersion(ctx, tx, articleID, 1, &v, actor, now)
	})
	if err != nil {
		return nil, fmt.Errorf("creating article: %w", err)
	}
	return s.Article(ctx, articleID)
}

func insertArticleVersion(ctx context.Context, tx *store.Tx, articleID id.ID, version int, v *ArticleVersion, actor string, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO kb_article_versions (id, article_id, version, status, title, body, search_body, category, audience,
		created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tx.NewID(), articleID, version, v.Title, v.Body, plainBody(v.Body), v.Category, string(v.Audience),
		actor, now.UnixMicro(), actor, now.UnixMicro()); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflictf("article %s has a draft or a version in review already; edit that one", articleID)
		}
		return err
	}
	return addEvent(ctx, tx, articleKind, articleID, version, "created", actor, now)
}

// NewArticleDraft starts the next version of an article from its latest
// version with spec's changes. There is at most one open version (draft or
// in review) per article.
func (s *Service) NewArticleDraft(ctx context.Context, articleID id.ID, spec ArticleSpec, actor string) (*ArticleVersion, error) {
	if spec.Slug != nil || spec.Locale != nil {
		field := "slug"
		if spec.Slug == nil {
			field = "locale"
		}
		return nil, errs.Invalidf(field, "belongs to the article, not to a version; it cannot change")
	}
	now := s.now()
	var version int
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockParent(ctx, tx, articleKind, articleID, now); err != nil {
			return err
		}
		if open, err := openVersion(ctx, tx, articleKind, articleID); err != nil {
			return err
		} else if open != 0 {
			return errs.Conflictf("article %s has version %d open already; edit or publish that one", articleID, open)
		}
		latest, err := articleVersions.oneTx(ctx, tx, articleID, 0)
		if err != nil {
			return err
		}
		if err := spec.apply(latest); err != nil {
			return err
		}
		if version, err = nextVersion(ctx, tx, articleKind, articleID); err != nil {
			return err
		}
		return insertArticleVersion(ctx, tx, articleID, version, latest, actor, now)
	})
	if err != nil {
		return nil, err
	}
	return s.ArticleVersion(ctx, articleID, version)
}

// UpdateArticleDraft changes a draft. Versions in review, published or
// superseded do not change (a conflict).
func (s *Service) UpdateArticleDraft(ctx context.Context, articleID id.ID, version int, spec ArticleSpec, actor string) (*ArticleVersion, error) {
	if spec.Slug != nil || spec.Locale != nil {
		return nil, errs.Invalidf("slug", "slug and locale belong to the article, not to a version; they cannot change")
	}
	now := s.now()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockParent(ctx, tx, articleKind, articleID, now); err != nil {
			return err
		}
		v, err := articleVersions.oneTx(ctx, tx, articleID, version)
		if err != nil {
			return err
		}
		if v.Status != Draft {
			return errs.Conflictf("article %s version %d is %s; only drafts can be edited (published versions never change)", articleID, version, v.Status)
		}
		if err := spec.apply(v); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE kb_article_versions SET title = ?, body = ?, search_body = ?, category = ?, audience = ?, updated_by = ?, updated_at = ?
			WHERE article_id = ? AND version = ? AND status = 'draft'`,
			v.Title, v.Body, plainBody(v.Body), v.Category, string(v.Audience), actor, now.UnixMicro(), articleID, version); err != nil {
			return err
		}
		return addEvent(ctx, tx, articleKind, articleID, version, "updated", actor, now)
	})
	if err != nil {
		return nil, err
	}
	return s.ArticleVersion(ctx, articleID, version)
}

// SubmitArticle sends a draft to review.
func (s *Service) SubmitArticle(ctx context.Context, articleID id.ID, version int, actor string) error {
	return s.submit(ctx, articleKind, articleID, version, actor)
}

// WithdrawArticle sends a version in review back to draft.
func (s *Service) WithdrawArticle(ctx context.Context, articleID id.ID, version int, actor string) error {
	return s.withdraw(ctx, articleKind, articleID, version, actor)
}

// PublishArticle publishes a version in review; the one published before
// is superseded, and search shows the new one from the same commit.
func (s *Service) PublishArticle(ctx context.Context, articleID id.ID, version int, actor string) error {
	return s.publish(ctx, articleKind, articleID, version, actor)
}

// ArticleHistory lists who did what to which version of an article.
func (s *Service) ArticleHistory(ctx context.Context, articleID id.ID) ([]Event, error) {
	return s.history(ctx, articleKind, articleID)
}

const articleVersionColumns = "article_id, version, status, title, body, category, audience, " + stampColumns

func scanArticleVersion(row interface{ Scan(...any) error }) (*ArticleVersion, error) {
	var v ArticleVersion
	stamps, fill := stampDest(&v.Stamps)
	if err := row.Scan(append([]any{&v.ArticleID, &v.Version, &v.Status, &v.Title, &v.Body, &v.Category, &v.Audience}, stamps...)...); err != nil {
		return nil, err
	}
	fill()
	return &v, nil
}

// ArticleVersion reads one version.
func (s *Service) ArticleVersion(ctx context.Context, articleID id.ID, version int) (*ArticleVersion, error) {
	return articleVersions.one(ctx, s.db, articleID, version)
}

// ArticleVersions lists every version of an article, newest first.
func (s *Service) ArticleVersions(ctx context.Context, articleID id.ID) ([]*ArticleVersion, error) {
	return articleVersions.all(ctx, s.db, articleID)
}

// Article reads an article with its published and open versions.
func (s *Service) Article(ctx context.Context, articleID id.ID) (*Article, error) {
	var a Article
	var created, updated int64
	err := s.db.QueryRow(ctx, "SELECT id, slug, locale, created_at, updated_at FROM kb_articles WHERE id = ?", articleID).
		Scan(&a.ID, &a.Slug, &a.Locale, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("article %s", articleID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading article: %w", err)
	}
	a.CreatedAt, a.UpdatedAt = micros(created), micros(updated)
	if err := s.fillCurrent(ctx, []*Article{&a}); err != nil {
		return nil, err
	}
	return &a, nil
}

// ArticleBySlug reads the article of a slug and locale.
func (s *Service) ArticleBySlug(ctx context.Context, slug, locale string) (*Article, error) {
	var aid id.ID
	err := s.db.QueryRow(ctx, "SELECT id FROM kb_articles WHERE slug = ? AND locale = ?", slug, locale).Scan(&aid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("article %q (%s)", slug, locale)
	}
	if err != nil {
		return nil, err
	}
	return s.Article(ctx, aid)
}

// fillCurrent reads the published and open versions of the articles.
func (s *Service) fillCurrent(ctx context.Context, arts []*Article) error {
	if len(arts) == 0 {
		return nil
	}
	byID := map[id.ID]*Article{}
	args := make([]any, len(arts))
	for i, a := range arts {
		byID[a.ID], args[i] = a, a.ID
	}
	rows, err := s.db.Query(ctx, "SELECT "+articleVersionColumns+" FROM kb_article_versions WHERE article_id IN ("+store.Placeholders(len(arts))+
		") AND status IN ('published', 'draft', 'in_review')", args...)
	if err != nil {
		return fmt.Errorf("reading current versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanArticleVersion(rows)
		if err != nil {
			return err
		}
		if v.Status == Published {
			byID[v.ArticleID].Published = v
		} else {
			byID[v.ArticleID].Open = v
		}
	}
	return rows.Err()
}

// ArticleFilter narrows ListArticles.
type ArticleFilter struct {
	Locale   string
	Category string
	// Audience, when set, keeps articles whose published version that
	// viewer may see (agents see all, kiosk public and kiosk, public public).
	Audience Audience
	// Text is part of the slug or of a current version's title; Status is
	// published, draft or in_review (see listConditions).
	Text, Status string
	Limit        int
	Cursor       string
}

// ListArticles lists articles by id, a page at a time.
func (s *Service) ListArticles(ctx context.Context, f ArticleFilter) ([]*Article, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	where := []string{"1 = 1"}
	var args []any
	if f.Cursor != "" {
		_, last, err := keyset.Decode(f.Cursor)
		if err != nil {
			return nil, "", errs.Invalidf("cursor", "is not a cursor this API made")
		}
		where, args = append(where, "a.id > ?"), append(args, last)
	}
	if f.Locale != "" {
		where, args = append(where, "a.locale = ?"), append(args, f.Locale)
	}
	conds, cargs, err := listConditions(articleKind, "a", "slug", "title", f.Text, f.Status)
	if err != nil {
		return nil, "", err
	}
	where, args = append(where, conds...), append(args, cargs...)
	if f.Category != "" || f.Audience != "" {
		sub := "SELECT 1 FROM kb_article_versions p WHERE p.article_id = a.id AND p.status = 'published'"
		if f.Category != "" {
			sub, args = sub+" AND p.category = ?", append(args, f.Category)
		}
		if f.Audience != "" {
			sees := f.Audience.Sees()
			sub += " AND p.audience IN (" + store.Placeholders(len(sees)) + ")"
			for _, a := range sees {
				args = append(args, string(a))
			}
		}
		where = append(where, "EXISTS ("+sub+")")
	}
	args = append(args, limit+1)
	rows, err := s.db.Query(ctx, "SELECT a.id, a.slug, a.locale, a.created_at, a.updated_at FROM kb_articles a WHERE "+
		strings.Join(where, " AND ")+" ORDER BY a.id LIMIT ?", args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing articles: %w", err)
	}
	defer rows.Close()
	out := []*Article{}
	for rows.Next() {
		var a Article
		var created, updated int64
		if err := rows.Scan(&a.ID, &a.Slug, &a.Locale, &created, &updated); err != nil {
			return nil, "", err
		}
		a.CreatedAt, a.UpdatedAt = micros(created), micros(updated)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	rows.Close()
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = keyset.Encode(0, out[len(out)-1].ID)
	}
	return out, next, s.fillCurrent(ctx, out)
}

// Rendered is a version of an article as a reader sees it.
type Rendered struct {
	Version *ArticleVersion `json:"version"`
	HTML    template.HTML   `json:"html"`
	// Cites are the versions shown: the article's and each fact's.
	Cites []Ref `json:"cites"`
}

// RenderArticle renders the published version of an article for a viewer
// of audience: an article the viewer may not see is not found, exactly as
// if it did not exist. Facts take their current published values.
func (s *Service) RenderArticle(ctx context.Context, articleID id.ID, viewer Audience, locale string) (*Rendered, error) {
	a, err := s.Article(ctx, articleID)
	if err != nil {
		return nil, err
	}
	if a.Published == nil || !visible(viewer, a.Published.Audience) {
		return nil, errs.NotFoundf("article %s", articleID)
	}
	if locale == "" {
		locale = a.Locale
	}
	return s.RenderVersion(ctx, a, a.Published, locale)
}

// RenderVersion renders any version (agents preview drafts with it).
func (s *Service) RenderVersion(ctx context.Context, a *Article, v *ArticleVersion, locale string) (*Rendered, error) {
	h, facts, err := s.RenderMarkdown(ctx, v.Body, locale)
	if err != nil {
		return nil, err
	}
	cites := append([]Ref{{Kind: "article", ID: v.ArticleID, Name: a.Slug, Version: v.Version}}, facts...)
	return &Rendered{Version: v, HTML: h, Cites: cites}, nil
}

func visible(viewer, article Audience) bool {
	for _, a := range viewer.Sees() {
		if a == article {
			return true
		}
	}
	return false
}
