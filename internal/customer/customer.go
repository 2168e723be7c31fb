// Package customer holds customer profiles, their identifiers and consent,
// and identity resolution: the rules that decide which customer an incoming
// identifier belongs to, and when two customers are one and get merged.
//
// Merges never rewrite history. Every customer row keeps its own identifiers,
// traits and interactions; a merged customer points at the one it was merged
// into (merged_into) and every row carries the root of its group (root_id).
// Reading a customer reads the whole group, so undoing a merge is exact.
package customer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Customer is a person or business account as the rest of the system sees it:
// the root of a merge group, with the identifiers, traits and consent of the
// whole group.
type Customer struct {
	ID           id.ID                   `json:"id"`
	Kind         string                  `json:"kind"`
	Name         string                  `json:"name"`
	Traits       map[string]any          `json:"traits"`
	Consent      map[string]Consent      `json:"consent"`
	JourneyStage string                  `json:"journey_stage"`
	Identifiers  []identifier.Identifier `json:"identifiers"`
	MergedIDs    []id.ID                 `json:"merged_ids"`
	CreatedAt    time.Time               `json:"created_at"`
	UpdatedAt    time.Time               `json:"updated_at"`
	LastSeenAt   time.Time               `json:"last_seen_at"`
}

// Consent is a customer's say on being contacted on one channel.
type Consent struct {
	Status     string    `json:"status"`                // opted_in, opted_out
	QuietHours string    `json:"quiet_hours,omitempty"` // "21:00-08:00" in the customer's time zone
	Preferred  bool      `json:"preferred,omitempty"`
	Source     string    `json:"source,omitempty"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Customer kinds.
const (
	Person   = "person"
	Business = "business"
)

// Service manages customers.
type Service struct {
	db   *store.DB
	norm identifier.Normalizer
	now  func() time.Time
	// stored filters the identifiers in the store (SQLite, once the
	// journaled ingest runs; see storedSet).
	stored   atomic.Pointer[storedSet]
	tracking atomic.Bool // the filter is being or has been set up
}

// NewService returns the customer service; defaultRegion is the ISO country
// whose phone numbers may be written without a country code.
func NewService(db *store.DB, defaultRegion string) *Service {
	return &Service{db: db, norm: identifier.Normalizer{DefaultRegion: defaultRegion}, now: time.Now}
}

// Normalizer is the identifier normalizer this service uses.
func (s *Service) Normalizer() identifier.Normalizer { return s.norm }

// querier is what reads need: the reader pool or a write transaction.
type querier interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *sql.Row
}

type row struct {
	id, root                    id.ID
	kind, name, traits, consent string
	stage                       string
	created, updated, lastSeen  int64
}

// Get returns the customer; asking for a merged customer returns the one it
// was merged into.
func (s *Service) Get(ctx context.Context, customerID id.ID) (*Customer, error) {
	return s.get(ctx, s.db, customerID)
}

func (s *Service) get(ctx context.Context, q querier, customerID id.ID) (*Customer, error) {
	var root id.ID
	err := q.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", customerID).Scan(&root)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("customer %s", customerID)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, `SELECT id, root_id, kind, name, traits, consent, journey_stage, created_at, updated_at, last_seen_at
		FROM customers WHERE root_id = ? ORDER BY merged_at DESC, id DESC`, root)
	if err != nil {
		return nil, err
	}
	var members []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.root, &r.kind, &r.name, &r.traits, &r.consent, &r.stage, &r.created, &r.updated, &r.lastSeen); err != nil {
			rows.Close()
			return nil, err
		}
		members = append(members, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	c, err := combine(root, members)
	if err != nil {
		return nil, err
	}
	c.Identifiers, err = groupIdentifiers(ctx, q, root)
	return c, err
}

// combine builds the group's view: the root's own values win; members fill
// what the root lacks; consent per channel is the latest said anywhere.
func combine(root id.ID, members []row) (*Customer, error) {
	c := &Customer{ID: root, Traits: map[string]any{}, Consent: map[string]Consent{}, MergedIDs: []id.ID{}}
	var rootRow *row
	for i := range members {
		m := &members[i]
		if m.id == root {
			rootRow = m
			continue
		}
		c.MergedIDs = append(c.MergedIDs, m.id)
	}
	if rootRow == nil {
		return nil, fmt.Errorf("customer %s: root row missing", root)
	}
	slices.Sort(c.MergedIDs)
	// Later values override earlier ones: the most recently merged member
	// first, the root last, so the root's own word wins, then those who
	// joined it earliest.
	order := make([]*row, 0, len(members))
	for i := range members {
		if members[i].id != root {
			order = append(order, &members[i])
		}
	}
	order = append(order, rootRow)
	c.CreatedAt = time.UnixMicro(rootRow.created).UTC()
	for _, m := range order {
		var traits map[string]any
		if err := json.Unmarshal([]byte(m.traits), &traits); err != nil {
			return nil, fmt.Errorf("customer %s traits: %w", m.id, err)
		}
		maps.Copy(c.Traits, traits)
		var consent map[string]Consent
		if err := json.Unmarshal([]byte(m.consent), &consent); err != nil {
			return nil, fmt.Errorf("customer %s consent: %w", m.id, err)
		}
		for ch, v := range consent {
			if old, ok := c.Consent[ch]; !ok || v.UpdatedAt.After(old.UpdatedAt) {
				c.Consent[ch] = v
			}
		}
		if m.name != "" {
			c.Name = m.name
		}
		if m.stage != "" {
			c.JourneyStage = m.stage
		}
		if m.kind != "" {
			c.Kind = m.kind
		}
		if t := time.UnixMicro(m.created).UTC(); t.Before(c.CreatedAt) {
			c.CreatedAt = t
		}
		if t := time.UnixMicro(m.updated).UTC(); t.After(c.UpdatedAt) {
			c.UpdatedAt = t
		}
		if t := time.UnixMicro(m.lastSeen).UTC(); t.After(c.LastSeenAt) {
			c.LastSeenAt = t
		}
	}
	return c, nil
}

func groupIdentifiers(ctx context.Context, q querier, root id.ID) ([]identifier.Identifier, error) {
	rows, err := q.Query(ctx, `SELECT i.kind, i.value FROM identifiers i JOIN customers c ON c.id = i.customer_id
		WHERE c.root_id = ? ORDER BY i.kind, i.value`, root)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []identifier.Identifier{}
	for rows.Next() {
		var ident identifier.Identifier
		if err := rows.Scan(&ident.Kind, &ident.Value); err != nil {
			return nil, err
		}
		out = append(out, ident)
	}
	slices.SortStableFunc(out, func(a, b identifier.Identifier) int {
		return identifier.Priority(a.Kind) - identifier.Priority(b.Kind)
	})
	return out, rows.Err()
}

// Members returns the ids of every customer row in the group of customerID
// (the root and all merged into it): the keys under which its history is stored.
func (s *Service) Members(ctx context.Context, customerID id.ID) (root id.ID, members []id.ID, err error) {
	rows, err := s.db.Query(ctx, `SELECT c.id, c.root_id FROM customers c
		WHERE c.root_id = (SELECT root_id FROM customers WHERE id = ?)`, customerID)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m id.ID
		if err := rows.Scan(&m, &root); err != nil {
			return 0, nil, err
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	if len(members) == 0 {
		return 0, nil, errs.NotFoundf("customer %s", customerID)
	}
	return root, members, nil
}

// FindByIdentifier returns the customer holding an identifier ("email:ann@example.com").
// The result is a list because lookups by partial keys may later match several.
func (s *Service) FindByIdentifier(ctx context.Context, raw string) ([]*Customer, error) {
	ident, err := s.norm.Parse(raw)
	if err != nil {
		return nil, &errs.Invalid{Field: "identifier", Reason: err.Error()}
	}
	var cid id.ID
	err = s.db.QueryRow(ctx, "SELECT customer_id FROM identifiers WHERE kind = ? AND value = ?", string(ident.Kind), ident.Value).Scan(&cid)
	if errors.Is(err, sql.ErrNoRows) {
		return []*Customer{}, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := s.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	return []*Customer{c}, nil
}

// Count is the number of customers after merges.
func (s *Service) Count(ctx context.Context) (int64, error) {
	return s.db.Counter(ctx, counterName)
}

// counterName is the running total of customers after merges.
const counterName = "customers"

// nameFromTraits picks a display name from common trait spellings.
func nameFromTraits(t map[string]any) string {
	if v, ok := t["name"].(string); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	first, _ := t["firstName"].(string)
	if first == "" {
		first, _ = t["first_name"].(string)
	}
	last, _ := t["lastName"].(string)
	if last == "" {
		last, _ = t["last_name"].(string)
	}
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}
