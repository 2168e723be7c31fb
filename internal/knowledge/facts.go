package knowledge

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/keyset"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Fact is a named short answer and the versions that matter now.
type Fact struct {
	ID        id.ID        `json:"id"`
	Name      string       `json:"name"`
	Locale    string       `json:"locale"` // "" is the default for every locale
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Published *FactVersion `json:"published,omitempty"`
	Open      *FactVersion `json:"open,omitempty"`
}

// FactVersion is one version of a fact.
type FactVersion struct {
	FactID  id.ID  `json:"fact_id"`
	Version int    `json:"version"`
	Status  Status `json:"status"`
	Value   string `json:"value"`
	Note    string `json:"note"` // why it changed, for reviewers
	Stamps
}

// FactSpec is the content of a fact draft; name and locale only on create.
type FactSpec struct {
	Name   *string `json:"name,omitempty"`
	Locale *string `json:"locale,omitempty"`
	Value  *string `json:"value,omitempty"`
	Note   *string `json:"note,omitempty"`
}

func (spec FactSpec) apply(v *FactVersion) error {
	if spec.Value != nil {
		val := strings.TrimSpace(cleanText(*spec.Value))
		if val == "" {
			return errs.Invalidf("value", "is required")
		}
		if utf8.RuneCountInString(val) > 2000 {
			return errs.Invalidf("value", "must be at most 2000 characters; write an article for longer answers")
		}
		v.Value = val
	}
	if spec.Note != nil {
		n, err := checkText("note", *spec.Note, false, 500)
		if err != nil {
			return err
		}
		v.Note = n
	}
	return nil
}

// CreateFact creates a fact with its first version as a draft.
func (s *Service) CreateFact(ctx context.Context, spec FactSpec, actor string) (*Fact, error) {
	if spec.Name == nil {
		return nil, errs.Invalidf("name", "is required")
	}
	name := strings.TrimSpace(*spec.Name)
	if len(name) > 100 || !factRE.MatchString(name) {
		return nil, errs.Invalidf("name", "must be lower-case letters and digits in parts separated by '.', '-' or '_', such as shipping.fee")
	}
	locale := ""
	if spec.Locale != nil {
		l, err := checkLocale("locale", *spec.Locale, true)
		if err != nil {
			return nil, err
		}
		locale = l
	}
	if spec.Value == nil {
		return nil, errs.Invalidf("value", "is required")
	}
	var v FactVersion
	if err := spec.apply(&v); err != nil {
		return nil, err
	}
	now := s.now()
	var factID id.ID
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		factID = tx.NewID()
		if _, err := tx.Exec(ctx, "INSERT INTO kb_facts (id, name, locale, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			factID, name, locale, now.UnixMicro(), now.UnixMicro()); err != nil {
			if store.IsUniqueViolation(err) {
				return &errs.Invalid{Field: "name", Reason: fmt.Sprintf("a fact %q with locale %q exists already", name, locale)}
			}
			return err
		}
		return insertFactVersion(ctx, tx, factID, 1, &v, actor, now)
	})
	if err != nil {
		return nil, fmt.Errorf("creating fact: %w", err)
	}
	return s.Fact(ctx, factID)
}

func insertFactVersion(ctx context.Context, tx *store.Tx, factID id.ID, version int, v *FactVersion, actor string, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO kb_fact_versions (id, fact_id, version, status, value, note, created_by, created_at, updated_by, updated_at)
		VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?)`,
		tx.NewID(), factID, version, v.Value, v.Note, actor, now.UnixMicro(), actor, now.UnixMicro()); err != nil {
		if store.IsUniqueViolation(err) {
			return errs.Conflictf("fact %s has a draft or a version in review already; edit that one", factID)
		}
		return err
	}
	return addEvent(ctx, tx, factKind, factID, version, "created", actor, now)
}

// NewFactDraft starts the next version of a fact from its latest version.
func (s *Service) NewFactDraft(ctx context.Context, factID id.ID, spec FactSpec, actor string) (*FactVersion, error) {
	if err := noIdentity(spec); err != nil {
		return nil, err
	}
	now := s.now()
	var version int
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockParent(ctx, tx, factKind, factID, now); err != nil {
			return err
		}
		if open, err := openVersion(ctx, tx, factKind, factID); err != nil {
			return err
		} else if open != 0 {
			return errs.Conflictf("fact %s has version %d open already; edit or publish that one", factID, open)
		}
		latest, err := factVersions.oneTx(ctx, tx, factID, 0)
		if err != nil {
			return err
		}
		latest.Note = ""
		if err := spec.apply(latest); err != nil {
			return err
		}
		if version, err = nextVersion(ctx, tx, factKind, factID); err != nil {
			return err
		}
		return insertFactVersion(ctx, tx, factID, version, latest, actor, now)
	})
	if err != nil {
		return nil, err
	}
	return s.FactVersion(ctx, factID, version)
}

func noIdentity(spec FactSpec) error {
	if spec.Name != nil {
		return errs.Invalidf("name", "belongs to the fact, not to a version; it cannot change")
	}
	if spec.Locale != nil {
		return errs.Invalidf("locale", "belongs to the fact, not to a version; it cannot change")
	}
	return nil
}

// UpdateFactDraft changes a draft.
func (s *Service) UpdateFactDraft(ctx context.Context, factID id.ID, version int, spec FactSpec, actor string) (*FactVersion, error) {
	if err := noIdentity(spec); err != nil {
		return nil, err
	}
	now := s.now()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := lockParent(ctx, tx, factKind, factID, now); err != nil {
			return err
		}
		v, err := factVersions.oneTx(ctx, tx, factID, version)
		if err != nil {
			return err
		}
		if v.Status != Draft {
			return errs.Conflictf("fact %s version %d is %s; only drafts can be edited (published versions never change)", factID, version, v.Status)
		}
		if err := spec.apply(v); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE kb_fact_versions SET value = ?, note = ?, updated_by = ?, updated_at = ? WHERE fact_id = ? AND version = ? AND status = 'draft'",
			v.Value, v.Note, actor, now.UnixMicro(), factID, version); err != nil {
			return err
		}
		return addEvent(ctx, tx, factKind, factID, version, "updated", actor, now)
	})
	if err != nil {
		return nil, err
	}
	return s.FactVersion(ctx, factID, version)
}

// SubmitFact sends a draft to review.
func (s *Service) SubmitFact(ctx context.Context, factID id.ID, version int, actor string) error {
	return s.submit(ctx, factKind, factID, version, actor)
}

// WithdrawFact sends a version in review back to draft.
func (s *Service) WithdrawFact(ctx context.Context, factID id.ID, version int, actor string) error {
	return s.withdraw(ctx, factKind, factID, version, actor)
}

// PublishFact publishes a version in review. Every text that names the fact
// shows the new value from the next render on: nothing is re-published.
func (s *Service) PublishFact(ctx context.Context, factID id.ID, version int, actor string) error {
	return s.publish(ctx, factKind, factID, version, actor)
}

// FactHistory lists who did what to which version of a fact.
func (s *Service) FactHistory(ctx context.Context, factID id.ID) ([]Event, error) {
	return s.history(ctx, factKind, factID)
}

const factVersionColumns = "fact_id, version, status, value, note, " + stampColumns

func scanFactVersion(row interface{ Scan(...any) error }) (*FactVersion, error) {
	var v FactVersion
	stamps, fill := stampDest(&v.Stamps)
	if err := row.Scan(append([]any{&v.FactID, &v.Version, &v.Status, &v.Value, &v.Note}, stamps...)...); err != nil {
		return nil, err
	}
	fill()
	return &v, nil
}

// FactVersion reads one version of a fact.
func (s *Service) FactVersion(ctx context.Context, factID id.ID, version int) (*FactVersion, error) {
	return factVersions.one(ctx, s.db, factID, version)
}

// FactVersions lists every version of a fact, newest first.
func (s *Service) FactVersions(ctx context.Context, factID id.ID) ([]*FactVersion, error) {
	return factVersions.all(ctx, s.db, factID)
}

// Fact reads a fact with its published and open versions.
func (s *Service) Fact(ctx context.Context, factID id.ID) (*Fact, error) {
	facts, err := s.readFacts(ctx, "f.id = ?", []any{factID}, 1)
	if err != nil {
		return nil, err
	}
	if len(facts) == 0 {
		return nil, errs.NotFoundf("fact %s", factID)
	}
	return facts[0], nil
}

// FactFilter narrows ListFacts.
type FactFilter struct {
	Prefix string // name prefix, such as "store."
	// Text is part of the name or of a current version's value; Status is
	// published, draft or in_review (see listConditions).
	Text, Status string
	Limit        int
	Cursor       string
}

// ListFacts lists facts by name and locale, a page at a time.
func (s *Service) ListFacts(ctx context.Context, f FactFilter) ([]*Fact, string, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.Cursor != "" {
		_, last, err := keyset.Decode(f.Cursor)
		if err != nil {
			return nil, "", errs.Invalidf("cursor", "is not a cursor this API made")
		}
		where, args = append(where, "f.id > ?"), append(args, last)
	}
	if f.Prefix != "" {
		// Names are [a-z0-9._-] only, so a range is an exact prefix match
		// with no LIKE escaping.
		where, args = append(where, "f.name >= ? AND f.name < ?"), append(args, f.Prefix, f.Prefix+"\U0010FFFF")
	}
	conds, cargs, err := listConditions(factKind, "f", "name", "value", f.Text, f.Status)
	if err != nil {
		return nil, "", err
	}
	where, args = append(where, conds...), append(args, cargs...)
	out, err := s.readFacts(ctx, strings.Join(where, " AND "), args, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = keyset.Encode(0, out[len(out)-1].ID)
	}
	return out, next, nil
}

func (s *Service) readFacts(ctx context.Context, where string, args []any, limit int) ([]*Fact, error) {
	rows, err := s.db.Query(ctx, "SELECT f.id, f.name, f.locale, f.created_at, f.updated_at FROM kb_facts f WHERE "+where+" ORDER BY f.id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	defer rows.Close()
	out := []*Fact{}
	byID := map[id.ID]*Fact{}
	for rows.Next() {
		var f Fact
		var created, updated int64
		if err := rows.Scan(&f.ID, &f.Name, &f.Locale, &created, &updated); err != nil {
			return nil, err
		}
		f.CreatedAt, f.UpdatedAt = micros(created), micros(updated)
		out = append(out, &f)
		byID[f.ID] = &f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, len(out))
	for i, f := range out {
		ids[i] = f.ID
	}
	vrows, err := s.db.Query(ctx, "SELECT "+factVersionColumns+" FROM kb_fact_versions WHERE fact_id IN ("+store.Placeholders(len(ids))+
		") AND status IN ('published', 'draft', 'in_review')", ids...)
	if err != nil {
		return nil, fmt.Errorf("reading fact versions: %w", err)
	}
	defer vrows.Close()
	for vrows.Next() {
		v, err := scanFactVersion(vrows)
		if err != nil {
			return nil, err
		}
		if v.Status == Published {
			byID[v.FactID].Published = v
		} else {
			byID[v.FactID].Open = v
		}
	}
	return out, vrows.Err()
}

// FactByName reads the fact of a name and locale ("" for the default).
func (s *Service) FactByName(ctx context.Context, name, locale string) (*Fact, error) {
	facts, err := s.readFacts(ctx, "f.name = ? AND f.locale = ?", []any{name, locale}, 1)
	if err != nil {
		return nil, err
	}
	if len(facts) == 0 {
		return nil, errs.NotFoundf("fact %q (locale %q)", name, locale)
	}
	return facts[0], nil
}
