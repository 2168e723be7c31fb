// Package knowledge is the one versioned source of answers: articles
// (Markdown) and facts (short named values such as shipping.fee), each with
// draft → in_review → published versions, full-text search on each store's
// own engine, content gaps, and citations that record which version an
// interaction gave to a customer.
//
// One version of an article or fact is published at a time; publishing
// another supersedes it. Published versions never change, so a citation of
// (article, version) always names the exact text that was shown. Facts are
// resolved when text is rendered, never copied into articles, so changing a
// fact changes every article, reply and template that names it at once.
package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Audience says who may see an article.
type Audience string

const (
	Public Audience = "public" // the help center, the kiosk, the chat widget, agents
	Kiosk  Audience = "kiosk"  // the kiosk and agents
	Agents Audience = "agents" // agents only
)

// ParseAudience checks an audience name.
func ParseAudience(s string) (Audience, bool) {
	switch a := Audience(strings.ToLower(strings.TrimSpace(s))); a {
	case Public, Kiosk, Agents:
		return a, true
	}
	return "", false
}

// Sees lists the article audiences visible to a viewer: agents see every
// article, the kiosk public and kiosk ones, everyone else public ones.
func (a Audience) Sees() []Audience {
	switch a {
	case Agents:
		return []Audience{Public, Kiosk, Agents}
	case Kiosk:
		return []Audience{Public, Kiosk}
	}
	return []Audience{Public}
}

// Status of a version.
type Status string

const (
	Draft      Status = "draft"      // editable
	InReview   Status = "in_review"  // frozen, waiting for a publisher
	Published  Status = "published"  // the current answer; immutable
	Superseded Status = "superseded" // was published; immutable
)

// Stamps say who did what to a version and when.
type Stamps struct {
	CreatedBy    string     `json:"created_by"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedBy    string     `json:"updated_by"`
	UpdatedAt    time.Time  `json:"updated_at"`
	SubmittedBy  string     `json:"submitted_by,omitempty"`
	SubmittedAt  *time.Time `json:"submitted_at,omitempty"`
	PublishedBy  string     `json:"published_by,omitempty"`
	PublishedAt  *time.Time `json:"published_at,omitempty"`
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
}

// Event is one change in the history of an article or fact.
type Event struct {
	ID      id.ID     `json:"id"`
	Version int       `json:"version"`
	Action  string    `json:"action"` // created, updated, submitted, withdrawn, published, superseded
	Actor   string    `json:"actor"`
	At      time.Time `json:"at"`
}

// Service is the knowledge base over a store.
type Service struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
	// searchBound overrides defaultRankBound (tests).
	searchBound int
	// lexemes caches PostgreSQL's statistics of the search lexemes.
	lexemes lexemeCache
}

// NewService builds the service.
func NewService(db *store.DB, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// kind describes the tables of one versioned thing, so that the lifecycle
// (submit, withdraw, publish, history) is written once for both.
type kind struct {
	name     string // "article" or "fact"
	parent   string // kb_articles
	versions string // kb_article_versions
	fk       string // article_id
}

var (
	articleKind = kind{name: "article", parent: "kb_articles", versions: "kb_article_versions", fk: "article_id"}
	factKind    = kind{name: "fact", parent: "kb_facts", versions: "kb_fact_versions", fk: "fact_id"}
)

// listConditions are the SQL conditions of a list's text and status
// filters on the parent row alias.id: text is a case-insensitive part of
// the name column or of a current version's textColumn (title, value);
// status keeps those with a published version ("published") or an open
// version in that status ("draft", "in_review").
func listConditions(k kind, alias, nameColumn, textColumn, text, status string) ([]string, []any, error) {
	var conds []string
	var args []any
	if text = strings.TrimSpace(text); text != "" {
		if len(text) > 200 {
			return nil, nil, errs.Invalidf("q", "must be at most 200 bytes")
		}
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(text)) + "%"
		conds = append(conds, "(lower("+alias+"."+nameColumn+") LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM "+k.versions+" t WHERE t."+k.fk+" = "+alias+
			".id AND t.status IN ('published', 'draft', 'in_review') AND lower(t."+textColumn+") LIKE ? ESCAPE '\\'))")
		args = append(args, like, like)
	}
	switch status {
	case "":
	case "published", "draft", "in_review":
		conds = append(conds, "EXISTS (SELECT 1 FROM "+k.versions+" st WHERE st."+k.fk+" = "+alias+".id AND st.status = ?)")
		args = append(args, status)
	default:
		return nil, nil, errs.Invalidf("status", "must be published, draft or in_review")
	}
	return conds, args, nil
}

const stampColumns = "created_by, created_at, updated_by, updated_at, submitted_by, submitted_at, published_by, published_at, superseded_at"

// stampDest returns scan targets for stampColumns and a function that fills s.
func stampDest(s *Stamps) ([]any, func()) {
	var created, updated int64
	var submitted, published, superseded sql.NullInt64
	dest := []any{&s.CreatedBy, &created, &s.UpdatedBy, &updated, &s.SubmittedBy, &submitted, &s.PublishedBy, &published, &superseded}
	return dest, func() {
		s.CreatedAt, s.UpdatedAt = micros(created), micros(updated)
		s.SubmittedAt, s.PublishedAt, s.SupersededAt = nullMicros(submitted), nullMicros(published), nullMicros(superseded)
	}
}

func micros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := micros(v.Int64)
	return &t
}

// lockParent touches the parent row, which serializes lifecycle changes of
// one article or fact (a row lock on PostgreSQL; SQLite has one writer).
func lockParent(ctx context.Context, tx *store.Tx, k kind, parentID id.ID, now time.Time) error {
	res, err := tx.Exec(ctx, "UPDATE "+k.parent+" SET updated_at = ? WHERE id = ?", now.UnixMicro(), parentID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFoundf("%s %s", k.name, parentID)
	}
	return nil
}

func versionStatus(ctx context.Context, tx *store.Tx, k kind, parentID id.ID, version int) (Status, error) {
	var st Status
	err := tx.QueryRow(ctx, "SELECT status FROM "+k.versions+" WHERE "+k.fk+" = ? AND version = ?", parentID, version).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.NotFoundf("%s %s version %d", k.name, parentID, version)
	}
	return st, err
}

func addEvent(ctx context.Context, tx *store.Tx, k kind, parentID id.ID, version int, action, actor string, now time.Time) error {
	_, err := tx.Exec(ctx, "INSERT INTO kb_events (id, kind, target_id, version, action, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tx.NewID(), k.name, parentID, version, action, actor, now.UnixMicro())
	return err
}

// openVersion is the number of the draft or in-review version, 0 if none.
func openVersion(ctx context.Context, tx *store.Tx, k kind, parentID id.ID) (int, error) {
	var v int
	err := tx.QueryRow(ctx, "SELECT version FROM "+k.versions+" WHERE "+k.fk+" = ? AND status IN ('draft', 'in_review')", parentID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func nextVersion(ctx context.Context, tx *store.Tx, k kind, parentID id.ID) (int, error) {
	var v int
	err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) + 1 FROM "+k.versions+" WHERE "+k.fk+" = ?", parentID).Scan(&v)
	return v, err
}

// reviewStep runs one review step on a version: it locks the parent,
// refuses a version not in status from (the refusal completes "only …"),
// runs apply and records the event, all in one transaction.
func (s *Service) reviewStep(ctx context.Context, k kind, parentID id.ID, version int, from Status, refusal, event, actor string,
	apply func(ctx context.Context, tx *store.Tx, now time.Time) error) error {
	now := s.now()
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockParent(ctx, tx, k, parentID, now); err != nil {
			return err
		}
		st, err := versionStatus(ctx, tx, k, parentID, version)
		if err != nil {
			return err
		}
		if st != from {
			return errs.Conflictf("%s %s version %d is %s; only %s", k.name, parentID, version, st, refusal)
		}
		if err := apply(ctx, tx, now); err != nil {
			return err
		}
		return addEvent(ctx, tx, k, parentID, version, event, actor, now)
	})
}

// submit moves a draft to review.
func (s *Service) submit(ctx context.Context, k kind, parentID id.ID, version int, actor string) error {
	return s.reviewStep(ctx, k, parentID, version, Draft, "a draft can be submitted for review", "submitted", actor,
		func(ctx context.Context, tx *store.Tx, now time.Time) error {
			_, err := tx.Exec(ctx, "UPDATE "+k.versions+" SET status = 'in_review', submitted_by = ?, submitted_at = ? WHERE "+k.fk+" = ? AND version = ?",
				actor, now.UnixMicro(), parentID, version)
			return err
		})
}

// withdraw sends a version in review back to draft (a reviewer's "not yet").
func (s *Service) withdraw(ctx context.Context, k kind, parentID id.ID, version int, actor string) error {
	return s.reviewStep(ctx, k, parentID, version, InReview, "a version in review can go back to draft", "withdrawn", actor,
		func(ctx context.Context, tx *store.Tx, now time.Time) error {
			_, err := tx.Exec(ctx, "UPDATE "+k.versions+" SET status = 'draft', submitted_by = '', submitted_at = NULL WHERE "+k.fk+" = ? AND version = ?",
				parentID, version)
			return err
		})
}

// publish makes a reviewed version the current one and supersedes the
// previous; on SQLite the search index follows in the same transaction
// (triggers), on PostgreSQL the partial GIN index does.
func (s *Service) publish(ctx context.Context, k kind, parentID id.ID, version int, actor string) error {
	return s.reviewStep(ctx, k, parentID, version, InReview, "a version in review can be published", "published", actor,
		func(ctx context.Context, tx *store.Tx, now time.Time) error {
			var prev int
			err := tx.QueryRow(ctx, "SELECT version FROM "+k.versions+" WHERE "+k.fk+" = ? AND status = 'published'", parentID).Scan(&prev)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if prev != 0 {
				if _, err := tx.Exec(ctx, "UPDATE "+k.versions+" SET status = 'superseded', superseded_at = ? WHERE "+k.fk+" = ? AND version = ?",
					now.UnixMicro(), parentID, prev); err != nil {
					return err
				}
				if err := addEvent(ctx, tx, k, parentID, prev, "superseded", actor, now); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, "UPDATE "+k.versions+" SET status = 'published', published_by = ?, published_at = ? WHERE "+k.fk+" = ? AND version = ?",
				actor, now.UnixMicro(), parentID, version); err != nil {
				if store.IsUniqueViolation(err) {
					return errs.Conflictf("%s %s was published concurrently", k.name, parentID)
				}
				return err
			}
			if k != articleKind {
				return nil
			}
			var title, body string
			if err := tx.QueryRow(ctx, "SELECT title, search_body FROM kb_article_versions WHERE article_id = ? AND version = ?", parentID, version).Scan(&title, &body); err != nil {
				return err
			}
			if err := addTerms(ctx, tx, title, body); err != nil {
				return fmt.Errorf("adding the article's words to the search vocabulary: %w", err)
			}
			return nil
		})
}

// history lists the events of an article or fact, oldest first.
func (s *Service) history(ctx context.Context, k kind, parentID id.ID) ([]Event, error) {
	rows, err := s.db.Query(ctx, "SELECT id, version, action, actor, at FROM kb_events WHERE kind = ? AND target_id = ? ORDER BY id", k.name, parentID)
	if err != nil {
		return nil, fmt.Errorf("reading %s history: %w", k.name, err)
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &e.Version, &e.Action, &e.Actor, &at); err != nil {
			return nil, err
		}
		e.At = micros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var one int
		if err := s.db.QueryRow(ctx, "SELECT 1 FROM "+k.parent+" WHERE id = ?", parentID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return nil, errs.NotFoundf("%s %s", k.name, parentID)
		}
	}
	return out, nil
}

var (
	localeRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	slugRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	factRE   = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*$`)
)

// checkLocale validates a locale tag such as "en" or "pt-BR"; empty is
// allowed only where allowEmpty says so.
func checkLocale(field, v string, allowEmpty bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && allowEmpty {
		return "", nil
	}
	if len(v) > 35 || !localeRE.MatchString(v) {
		return "", errs.Invalidf(field, "must be a language tag such as en or pt-BR")
	}
	return v, nil
}

// language is the language part of a locale ("pt" of "pt-BR").
func language(locale string) string {
	l, _, _ := strings.Cut(locale, "-")
	return l
}

// checkText validates a one-line text field.
func checkText(field, v string, required bool, maxRunes int) (string, error) {
	v = strings.TrimSpace(cleanText(v))
	if strings.ContainsAny(v, "\n\r") {
		return "", errs.Invalidf(field, "must be one line")
	}
	if required && v == "" {
		return "", errs.Invalidf(field, "is required")
	}
	if utf8.RuneCountInString(v) > maxRunes {
		return "", errs.Invalidf(field, "must be at most %d characters", maxRunes)
	}
	return v, nil
}

// cleanText drops control characters other than tab and newline, normalizes
// line ends, and drops the private-use characters that rendering uses as
// markers, so that stored text can never forge one.
func cleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f:
			return -1
		case r == markGapOpen || r == markGapClose:
			return -1
		}
		return r
	}, s)
}
