package knowledge

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Citation records that an interaction gave a customer a version of an
// article or fact.
type Citation struct {
	ID             id.ID     `json:"id"`
	InteractionID  id.ID     `json:"interaction_id"`
	CustomerID     id.ID     `json:"customer_id"`
	ContactPointID *id.ID    `json:"contact_point_id,omitempty"`
	Kind           string    `json:"kind"`
	TargetID       id.ID     `json:"target_id"`
	Name           string    `json:"name"`
	Locale         string    `json:"locale"`
	Version        int       `json:"version"`
	CitedAt        time.Time `json:"cited_at"` // when the interaction happened
}

// Cite records that the interaction cited refs (as returned by
// RenderArticle, RenderMarkdown and RenderFacts). Citing the same version
// twice is a no-op.
func (s *Service) Cite(ctx context.Context, interactionID id.ID, refs []Ref) error {
	if len(refs) == 0 {
		return nil
	}
	return s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		return s.CiteTx(ctx, tx, interactionID, refs)
	})
}

// CiteTx is Cite inside a caller's transaction, such as the one recording
// the interaction, so that the answer and what it cited commit together.
func (s *Service) CiteTx(ctx context.Context, tx *store.Tx, interactionID id.ID, refs []Ref) error {
	var customerID id.ID
	var cp sql.NullInt64
	var occurred int64
	err := tx.QueryRow(ctx, "SELECT customer_id, contact_point_id, occurred_at FROM interactions WHERE id = ?", interactionID).Scan(&customerID, &cp, &occurred)
	if errors.Is(err, sql.ErrNoRows) {
		return &errs.Invalid{Field: "interaction_id", Reason: "no such interaction"}
	}
	if err != nil {
		return fmt.Errorf("reading the cited interaction: %w", err)
	}
	for i, r := range refs {
		field := fmt.Sprintf("cites[%d]", i)
		var k kind
		var nameQ string
		switch r.Kind {
		case "article":
			k, nameQ = articleKind, "SELECT slug, locale FROM kb_articles WHERE id = ?"
		case "fact":
			k, nameQ = factKind, "SELECT name, locale FROM kb_facts WHERE id = ?"
		default:
			return errs.Invalidf(field+".kind", "must be article or fact")
		}
		var name, locale string
		if err := tx.QueryRow(ctx, nameQ, r.ID).Scan(&name, &locale); errors.Is(err, sql.ErrNoRows) {
			return errs.Invalidf(field+".id", "no such %s", r.Kind)
		} else if err != nil {
			return err
		}
		st, err := versionStatus(ctx, tx, k, r.ID, r.Version)
		if errors.Is(err, errs.ErrNotFound) {
			return errs.Invalidf(field+".version", "%s %s has no version %d", r.Kind, r.ID, r.Version)
		} else if err != nil {
			return err
		}
		if st != Published && st != Superseded {
			return errs.Invalidf(field+".version", "version %d is %s; only published versions are shown to customers", r.Version, st)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO kb_citations (id, interaction_id, customer_id, contact_point_id, kind, target_id, name, locale, version, cited_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id, kind, target_id, version) DO NOTHING`,
			tx.NewID(), interactionID, customerID, cp, r.Kind, r.ID, name, locale, r.Version, occurred); err != nil {
			return fmt.Errorf("recording citation: %w", err)
		}
	}
	return nil
}

const citationColumns = "id, interaction_id, customer_id, contact_point_id, kind, target_id, name, locale, version, cited_at"

func scanCitations(rows *sql.Rows) ([]Citation, error) {
	defer rows.Close()
	out := []Citation{}
	for rows.Next() {
		var c Citation
		var cp sql.NullInt64
		var at int64
		if err := rows.Scan(&c.ID, &c.InteractionID, &c.CustomerID, &cp, &c.Kind, &c.TargetID, &c.Name, &c.Locale, &c.Version, &at); err != nil {
			return nil, err
		}
		if cp.Valid {
			v := id.ID(cp.Int64)
			c.ContactPointID = &v
		}
		c.CitedAt = micros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// maxWhoGot bounds one WhoGotFact answer.
const maxWhoGot = 5000

// WhoGotFact lists the interactions (and so the customers) that were given
// a fact's version since a time, newest first: whom to correct after the
// fact changed. Version 0 means any version other than the one published
// now. Every locale of the name is included.
func (s *Service) WhoGotFact(ctx context.Context, factName string, version int, since time.Time) ([]Citation, error) {
	if !factRE.MatchString(factName) {
		return nil, errs.Invalidf("name", "is not a fact name")
	}
	q := "SELECT " + citationColumns + " FROM kb_citations c WHERE c.kind = 'fact' AND c.name = ? AND c.cited_at >= ?"
	args := []any{factName, since.UnixMicro()}
	if version > 0 {
		q, args = q+" AND c.version = ?", append(args, version)
	} else {
		q += " AND c.version <> COALESCE((SELECT v.version FROM kb_fact_versions v WHERE v.fact_id = c.target_id AND v.status = 'published'), 0)"
	}
	rows, err := s.db.Query(ctx, q+" ORDER BY c.cited_at DESC, c.id DESC LIMIT ?", append(args, maxWhoGot)...)
	if err != nil {
		return nil, fmt.Errorf("listing who got fact %s: %w", factName, err)
	}
	return scanCitations(rows)
}

// Citations lists what one interaction cited.
func (s *Service) Citations(ctx context.Context, interactionID id.ID) ([]Citation, error) {
	rows, err := s.db.Query(ctx, "SELECT "+citationColumns+" FROM kb_citations WHERE interaction_id = ? ORDER BY id", interactionID)
	if err != nil {
		return nil, fmt.Errorf("listing citations: %w", err)
	}
	return scanCitations(rows)
}

// Inconsistency is an article or fact (the question) that was answered
// with more than one version in a period, and where each version was given.
type Inconsistency struct {
	Kind     string       `json:"kind"`
	ID       id.ID        `json:"id"`
	Name     string       `json:"name"`
	Locale   string       `json:"locale"`
	Current  int          `json:"current"` // the published version now, 0 if none
	Versions []VersionUse `json:"versions"`
	// OutdatedCustomers counts the customers given a version other than
	// the current one in the period; Outdated is the latest such citation
	// of each, newest first, at most maxOutdatedListed: whom to correct.
	OutdatedCustomers int64      `json:"outdated_customers"`
	Outdated          []Citation `json:"outdated"`
}

// maxOutdatedListed bounds the customers a consistency report names per
// question; the fact page lists them all.
const maxOutdatedListed = 20

// VersionUse is how often one version was given, and on which contact points.
type VersionUse struct {
	Version       int               `json:"version"`
	Citations     int64             `json:"citations"`
	ContactPoints []ContactPointUse `json:"contact_points"`
}

// ContactPointUse counts the citations of a version on one contact point
// (ContactPointID nil: interactions without one).
type ContactPointUse struct {
	ContactPointID *id.ID `json:"contact_point_id"`
	Citations      int64  `json:"citations"`
	Customers      int64  `json:"customers"`
}

// Consistency reports the questions answered with different versions in
// [from, to): each article or fact cited at two or more versions, with the
// contact points that gave each. Outdated answers show up here.
func (s *Service) Consistency(ctx context.Context, from, to time.Time) ([]Inconsistency, error) {
	if !to.After(from) {
		return nil, errs.Invalidf("to", "must be after from")
	}
	rows, err := s.db.Query(ctx, `SELECT c.kind, c.target_id, c.name, c.locale, c.version, c.contact_point_id, COUNT(*), COUNT(DISTINCT c.customer_id)
		FROM kb_citations c
		WHERE c.cited_at >= ? AND c.cited_at < ? AND EXISTS (
			SELECT 1 FROM kb_citations o WHERE o.kind = c.kind AND o.target_id = c.target_id
			AND o.cited_at >= ? AND o.cited_at < ? AND o.version <> c.version)
		GROUP BY c.kind, c.target_id, c.name, c.locale, c.version, c.contact_point_id`,
		from.UnixMicro(), to.UnixMicro(), from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("reading the consistency report: %w", err)
	}
	defer rows.Close()
	type key struct {
		kind string
		id   id.ID
	}
	items := map[key]*Inconsistency{}
	for rows.Next() {
		var k key
		var name, locale string
		var version int
		var cp sql.NullInt64
		var n, customers int64
		if err := rows.Scan(&k.kind, &k.id, &name, &locale, &version, &cp, &n, &customers); err != nil {
			return nil, err
		}
		it := items[k]
		if it == nil {
			it = &Inconsistency{Kind: k.kind, ID: k.id, Name: name, Locale: locale}
			items[k] = it
		}
		var vu *VersionUse
		for i := range it.Versions {
			if it.Versions[i].Version == version {
				vu = &it.Versions[i]
			}
		}
		if vu == nil {
			it.Versions = append(it.Versions, VersionUse{Version: version})
			vu = &it.Versions[len(it.Versions)-1]
		}
		use := ContactPointUse{Citations: n, Customers: customers}
		if cp.Valid {
			v := id.ID(cp.Int64)
			use.ContactPointID = &v
		}
		vu.Citations += n
		vu.ContactPoints = append(vu.ContactPoints, use)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	out := make([]Inconsistency, 0, len(items))
	for _, it := range items {
		sort.Slice(it.Versions, func(i, j int) bool { return it.Versions[i].Version > it.Versions[j].Version })
		k := articleKind
		if it.Kind == "fact" {
			k = factKind
		}
		err := s.db.QueryRow(ctx, "SELECT version FROM "+k.versions+" WHERE "+k.fk+" = ? AND status = 'published'", it.ID).Scan(&it.Current)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if err := s.outdated(ctx, it, from, to); err != nil {
			return nil, err
		}
		out = append(out, *it)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind > out[j].Kind // facts first: they are the short answers that diverge most
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// outdated fills in who was given another version than the current one.
func (s *Service) outdated(ctx context.Context, it *Inconsistency, from, to time.Time) error {
	const where = " FROM kb_citations c WHERE c.kind = ? AND c.target_id = ? AND c.cited_at >= ? AND c.cited_at < ? AND c.version <> ?"
	args := []any{it.Kind, it.ID, from.UnixMicro(), to.UnixMicro(), it.Current}
	if err := s.db.QueryRow(ctx, "SELECT COUNT(DISTINCT c.customer_id)"+where, args...).Scan(&it.OutdatedCustomers); err != nil {
		return fmt.Errorf("counting outdated answers: %w", err)
	}
	// The latest citation per customer: the newest maxOutdatedListed
	// customers' rows are among the newest few hundred citations in practice;
	// read a bounded number and keep the first of each customer.
	rows, err := s.db.Query(ctx, "SELECT "+citationColumns+where+" ORDER BY c.cited_at DESC, c.id DESC LIMIT ?", append(args, 50*maxOutdatedListed)...)
	if err != nil {
		return fmt.Errorf("listing outdated answers: %w", err)
	}
	cites, err := scanCitations(rows)
	if err != nil {
		return err
	}
	seen := map[id.ID]bool{}
	it.Outdated = []Citation{}
	for _, c := range cites {
		if seen[c.CustomerID] {
			continue
		}
		seen[c.CustomerID] = true
		it.Outdated = append(it.Outdated, c)
		if len(it.Outdated) == maxOutdatedListed {
			break
		}
	}
	return nil
}
