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
	"time"
	"unicode"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Evidence is what one contact says about who the customer is.
type Evidence struct {
	// Identifiers, normalized. The strongest (by identifier.Priority) decides
	// which customer survives when they link two customers.
	Identifiers []identifier.Identifier
	// CustomerID, when the caller already knows the customer.
	CustomerID id.ID
	// Traits learned with this contact (name, language, ...); they are set on the customer.
	Traits map[string]any
	// Kind is person or business; empty keeps what is there.
	Kind string
	// Source names where the evidence came from ("segment:123", "api:crm").
	Source string
	// At is when the contact happened.
	At time.Time
	// Alias is an earlier identifier of the same customer (Segment alias): the
	// customer holding it is merged even past the per-kind limits.
	Alias *identifier.Identifier
	// Known, when set, holds identifiers already looked up in this
	// transaction (see Preload); Resolve keeps it current.
	Known *Known
	// Promised is the customer the contact was resolved to before it was
	// stored (see Promises). When Resolve has to create a customer it takes
	// this id if no customer has it yet, so that the contact lands where
	// its acknowledgement said.
	Promised id.ID
}

// Resolution says which customer the evidence resolved to and what changed.
type Resolution struct {
	CustomerID id.ID      `json:"customer_id"`
	Created    bool       `json:"created"`
	Merged     []id.ID    `json:"merged,omitempty"`
	Refused    []Conflict `json:"refused,omitempty"`
}

// Conflict is an identifier that was not followed because a guard said no.
type Conflict struct {
	Identifier identifier.Identifier `json:"identifier"`
	OtherID    id.ID                 `json:"other_customer_id,omitempty"`
	Rule       string                `json:"rule"`
}

// lastSeenResolution is how stale last_seen_at may be, in microseconds.
const lastSeenResolution = int64(time.Minute / time.Microsecond)

type found struct {
	ident      identifier.Identifier
	customerID id.ID
	root       id.ID
	lastSeen   int64 // of customerID's row
}

// Resolve finds or creates the customer the evidence points to, inside tx,
// linking new identifiers and merging customers that an identifier shows to
// be one, unless a guard refuses:
//   - blocked pairs: customers whose merge was undone are not merged again;
//   - per-kind limits: a merge or a new identifier that would give one
//     customer more identifiers of a kind than identifier.Limit allows (one
//     user id; a handful of emails or devices) is not followed, so a shared
//     family email or a kiosk device does not glue strangers together;
//   - priority: the customer found by the strongest identifier survives.
//
// Refused links are kept in identity_conflicts for review.
func (s *Service) Resolve(ctx context.Context, tx *store.Tx, ev Evidence) (Resolution, error) {
	var res Resolution
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	idents := dedupe(ev.Identifiers)
	var hits []found
	var misses []identifier.Identifier
	for _, ident := range idents {
		f, ok, err := ev.Known.lookup(ctx, tx, ident)
		if err != nil {
			return res, err
		}
		if ok {
			hits = append(hits, f)
		} else {
			misses = append(misses, ident)
		}
	}

	// Creating a customer is put off to the end of the batch (one
	// statement for all, see Known.FlushCreated) when nothing else about
	// this contact needs the store; anything that reads or links customers
	// first writes those put off so far.
	deferred := ev.Known.defersCreation() && ev.CustomerID == 0 && ev.Alias == nil && len(hits) == 0 && withinLimits(misses)
	sameRoot := ev.CustomerID == 0 && ev.Alias == nil && len(misses) == 0 &&
		!slices.ContainsFunc(hits, func(h found) bool { return h.root != hits[0].root })
	if !deferred && !sameRoot {
		if err := ev.Known.FlushCreated(ctx, tx); err != nil {
			return res, err
		}
	}

	var target id.ID
	if ev.CustomerID != 0 {
		err := tx.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", ev.CustomerID).Scan(&target)
		if errors.Is(err, sql.ErrNoRows) {
			return res, errs.Invalidf("customer_id", "no customer %s", ev.CustomerID)
		}
		if err != nil {
			return res, err
		}
	} else if len(hits) > 0 {
		target = hits[0].root
	}

	var counts map[identifier.Kind]int // identifiers per kind in target's group
	if target != 0 && len(misses) > 0 {
		var err error
		if counts, err = kindCounts(ctx, tx, target); err != nil {
			return res, err
		}
		// A new identifier stronger than every known one that the found
		// customer cannot take (a second user id) means another person who
		// shares the weaker identifier: they get a customer of their own.
		if ev.CustomerID == 0 {
			for _, m := range misses {
				if identifier.Priority(m.Kind) < identifier.Priority(hits[0].ident.Kind) && counts[m.Kind] >= identifier.Limit(m.Kind) {
					target = 0
					break
				}
			}
		}
	}
	if target == 0 {
		if len(idents) == 0 {
			return res, errs.Invalidf("identifiers", "at least one usable identifier or a customer_id is required")
		}
		target = newCustomerID(tx, ev.Promised)
		kind := ev.Kind
		if kind == "" {
			kind = Person
		}
		// A new customer takes all its new identifiers (within the limits)
		// in the same breath as it is created.
		counts = map[identifier.Kind]int{}
		var take []identifier.Identifier
		for _, ident := range misses {
			if counts[ident.Kind] < identifier.Limit(ident.Kind) {
				take = append(take, ident)
				counts[ident.Kind]++
			}
		}
		if deferred {
			ev.Known.create(pendingCustomer{id: target, kind: kind, at: at.UnixMicro(), source: ev.Source, idents: take})
		} else {
			err := s.createCustomer(ctx, tx, target, kind, take, ev.Source, at)
			if errors.Is(err, errIDTaken) {
				target = tx.NewID()
				err = s.createCustomer(ctx, tx, target, kind, take, ev.Source, at)
			}
			if err != nil {
				return res, err
			}
		}
		for _, ident := range take {
			ev.Known.add(ident, found{ident: ident, customerID: target, root: target, lastSeen: at.UnixMicro()})
		}
		res.Created = true
		misses = slices.DeleteFunc(misses, func(i identifier.Identifier) bool { return slices.Contains(take, i) })
	}

	// New identifiers first, so that the merge guards below count them.
	for _, ident := range misses {
		if counts[ident.Kind] >= identifier.Limit(ident.Kind) {
			rule := "limit:" + string(ident.Kind)
			res.Refused = append(res.Refused, Conflict{Identifier: ident, Rule: rule})
			if err := recordConflict(ctx, tx, ident, target, 0, rule, ev.Source, at); err != nil {
				return res, err
			}
			continue
		}
		if err := s.insertIdentifier(ctx, tx, ident, target, ev.Source, at); err != nil {
			return res, err
		}
		ev.Known.add(ident, found{ident: ident, customerID: target, root: target, lastSeen: at.UnixMicro()})
		counts[ident.Kind]++
	}

	for _, h := range hits {
		if h.root == target || slices.Contains(res.Merged, h.root) {
			continue
		}
		if counts == nil {
			var err error
			if counts, err = kindCounts(ctx, tx, target); err != nil {
				return res, err
			}
		}
		rule, err := s.mergeRefusal(ctx, tx, target, h.root, counts, false)
		if err != nil {
			return res, err
		}
		if rule != "" {
			res.Refused = append(res.Refused, Conflict{Identifier: h.ident, OtherID: h.root, Rule: rule})
			if err := recordConflict(ctx, tx, h.ident, target, h.root, rule, ev.Source, at); err != nil {
				return res, err
			}
			continue
		}
		other, err := kindCounts(ctx, tx, h.root)
		if err != nil {
			return res, err
		}
		if err := s.merge(ctx, tx, target, h.root, "identifier", h.ident, ev.Source, "", at); err != nil {
			return res, err
		}
		ev.Known.merged(target, h.root)
		for k, n := range other {
			counts[k] += n
		}
		res.Merged = append(res.Merged, h.root)
	}

	if ev.Alias != nil {
		if err := s.alias(ctx, tx, target, *ev.Alias, ev.Source, at, ev.Known, &res); err != nil {
			return res, err
		}
	}

	delta := -int64(len(res.Merged))
	if res.Created {
		delta++
	}
	if err := ev.Known.count(ctx, tx, delta); err != nil {
		return res, err
	}
	// The common event changes nothing but last_seen_at; skip even that
	// write when the customer was just created (it holds this contact's
	// time already) or seen within the last minute.
	if len(ev.Traits) == 0 && ev.Kind == "" && (res.Created ||
		len(res.Merged) == 0 && len(hits) > 0 && hits[0].customerID == target && at.UnixMicro() < hits[0].lastSeen+lastSeenResolution) {
		res.CustomerID = target
		return res, nil
	}
	if len(ev.Traits) == 0 && ev.Kind == "" && ev.Known != nil {
		// Only last_seen_at moves: gathered, and written for the whole
		// batch in a few statements when the batch is flushed.
		ev.Known.seen(target, at.UnixMicro())
		res.CustomerID = target
		return res, nil
	}
	if err := ev.Known.FlushCreated(ctx, tx); err != nil {
		return res, err
	}
	if err := s.touch(ctx, tx, target, ev, at); err != nil {
		return res, err
	}
	res.CustomerID = target
	return res, nil
}

// alias merges the customer holding an earlier id into target. The earlier id
// may have been a user id or an anonymous id; if nobody holds it yet it
// becomes an anonymous id of target, so later events under it land here.
func (s *Service) alias(ctx context.Context, tx *store.Tx, target id.ID, prev identifier.Identifier, source string, at time.Time, known *Known, res *Resolution) error {
	candidates := []identifier.Identifier{prev}
	if prev.Kind == identifier.UserID {
		candidates = append(candidates, identifier.Identifier{Kind: identifier.AnonymousID, Value: prev.Value})
	}
	for _, c := range candidates {
		f, ok, err := known.lookup(ctx, tx, c)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if f.root == target {
			return nil
		}
		rule, err := s.mergeRefusal(ctx, tx, target, f.root, nil, true)
		if err != nil {
			return err
		}
		if rule != "" {
			res.Refused = append(res.Refused, Conflict{Identifier: c, OtherID: f.root, Rule: rule})
			return recordConflict(ctx, tx, c, target, f.root, rule, source, at)
		}
		if err := s.merge(ctx, tx, target, f.root, "alias", c, source, "", at); err != nil {
			return err
		}
		known.merged(target, f.root)
		res.Merged = append(res.Merged, f.root)
		return nil
	}
	anon := identifier.Identifier{Kind: identifier.AnonymousID, Value: prev.Value}
	if err := s.insertIdentifier(ctx, tx, anon, target, source, at); err != nil {
		return err
	}
	known.add(anon, found{ident: anon, customerID: target, root: target, lastSeen: at.UnixMicro()})
	return nil
}

func lookup(ctx context.Context, tx *store.Tx, ident identifier.Identifier) (found, bool, error) {
	f := found{ident: ident}
	err := tx.QueryRow(ctx, `SELECT i.customer_id, c.root_id, c.last_seen_at FROM identifiers i JOIN customers c ON c.id = i.customer_id
		WHERE i.kind = ? AND i.value = ?`, string(ident.Kind), ident.Value).Scan(&f.customerID, &f.root, &f.lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, nil
	}
	if err != nil {
		return f, false, fmt.Errorf("looking up %s: %w", ident, err)
	}
	return f, true, nil
}

// newCustomerID is the id of a customer about to be created: the promised
// one, or a new one (createCustomer refuses a promised id that is taken,
// and Resolve then takes a new one).
func newCustomerID(tx *store.Tx, promised id.ID) id.ID {
	if promised == 0 {
		return tx.NewID()
	}
	return promised // createCustomer says errIDTaken when it is taken
}

// errIDTaken: a customer with the promised id exists already.
var errIDTaken = errors.New("customer id taken")

// createCustomer inserts a customer and its first identifiers. On
// PostgreSQL that is one statement (one round trip instead of one per row).
func (s *Service) createCustomer(ctx context.Context, tx *store.Tx, cid id.ID, kind string, idents []identifier.Identifier, source string, at time.Time) error {
	us := at.UnixMicro()
	if tx.Dialect() != store.Postgres || len(idents) == 0 {
		r, err := tx.Exec(ctx, `INSERT INTO customers (id, root_id, kind, created_at, updated_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, cid, cid, kind, us, us, us)
		if err != nil {
			return fmt.Errorf("creating customer: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errIDTaken
		}
		for _, ident := range idents {
			if err := s.insertIdentifier(ctx, tx, ident, cid, source, at); err != nil {
				return err
			}
		}
		return nil
	}
	args := []any{cid, cid, kind, us, us, us}
	for _, ident := range idents {
		args = append(args, string(ident.Kind), ident.Value, source, us)
	}
	// The identifiers go in only if the customer did: a promised id that
	// is taken leaves both alone, and the counts tell which race was lost.
	var customers, linked int
	err := tx.QueryRow(ctx, `WITH c AS (INSERT INTO customers (id, root_id, kind, created_at, updated_at, last_seen_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id),
		i AS (INSERT INTO identifiers (kind, value, customer_id, source, created_at)
			SELECT v.kind, v.value, c.id, v.source, v.created_at FROM c, (VALUES `+
		strings.TrimSuffix(strings.Repeat("(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT)), ", len(idents)), ", ")+
		`) AS v (kind, value, source, created_at)
			ON CONFLICT (kind, value) DO NOTHING RETURNING 1)
		SELECT (SELECT COUNT(*) FROM c), (SELECT COUNT(*) FROM i)`, args...).Scan(&customers, &linked)
	if err != nil {
		return fmt.Errorf("creating customer: %w", err)
	}
	if customers == 0 {
		return errIDTaken
	}
	if linked != len(idents) {
		// A concurrent transaction claimed one of the identifiers first.
		return fmt.Errorf("an identifier of a new customer was taken concurrently: %w", store.ErrRetry)
	}
	return nil
}

func (s *Service) insertIdentifier(ctx context.Context, tx *store.Tx, ident identifier.Identifier, customerID id.ID, source string, at time.Time) error {
	r, err := tx.Exec(ctx, `INSERT INTO identifiers (kind, value, customer_id, source, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, value) DO NOTHING`, string(ident.Kind), ident.Value, customerID, source, at.UnixMicro())
	if err != nil {
		return fmt.Errorf("adding identifier %s: %w", ident, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		// A concurrent transaction (PostgreSQL, several nodes) claimed it
		// first: start over so that this evidence sees it.
		return fmt.Errorf("identifier %s taken concurrently: %w", ident, store.ErrRetry)
	}
	s.linked(ident)
	return nil
}

// kindCounts counts the identifiers per kind of a group.
func kindCounts(ctx context.Context, tx *store.Tx, root id.ID) (map[identifier.Kind]int, error) {
	return groupKindCounts(ctx, tx, tx.Dialect(), root)
}

// groupKindCounts counts the identifiers per kind of the group member
// belongs to (its root or any other member; none when member is not
// stored). On SQLite that is one join, which its planner runs on the
// primary key and the two customer-id indexes (the event API asks it for
// every visitor who signs in, and three statements cost 8% of its CPU). On
// PostgreSQL it reads the members first, then their identifiers by
// customer id: two index lookups that no planner can turn into a scan of
// the identifiers table (a join here did, with fresh statistics).
func groupKindCounts(ctx context.Context, db querier, dialect store.Dialect, member id.ID) (map[identifier.Kind]int, error) {
	if dialect == store.SQLite {
		rows, err := db.Query(ctx, `SELECT i.kind, COUNT(*) FROM customers c
			JOIN customers m ON m.root_id = c.root_id
			JOIN identifiers i ON i.customer_id = m.id
			WHERE c.id = ? GROUP BY i.kind`, member)
		if err != nil {
			return nil, err
		}
		return scanKindCounts(rows, map[identifier.Kind]int{})
	}
	rows, err := db.Query(ctx, "SELECT id FROM customers WHERE root_id = (SELECT root_id FROM customers WHERE id = ?)", member)
	if err != nil {
		return nil, err
	}
	var members []any
	for rows.Next() {
		var m id.ID
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return nil, err
		}
		members = append(members, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	m := map[identifier.Kind]int{}
	if len(members) == 0 {
		return m, nil
	}
	q := "SELECT kind, COUNT(*) FROM identifiers WHERE customer_id = ? GROUP BY kind"
	if len(members) > 1 {
		q = "SELECT kind, COUNT(*) FROM identifiers WHERE customer_id IN (" + store.Placeholders(len(members)) + ") GROUP BY kind"
	}
	rows, err = db.Query(ctx, q, members...)
	if err != nil {
		return nil, err
	}
	return scanKindCounts(rows, m)
}

// scanKindCounts reads (kind, count) rows into m and closes them.
func scanKindCounts(rows *sql.Rows, m map[identifier.Kind]int) (map[identifier.Kind]int, error) {
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		m[identifier.Kind(k)] = n
	}
	return m, rows.Err()
}

// mergeRefusal names the guard that forbids merging group b into group a, or "".
// targetCounts may be nil; it is loaded then. Aliases skip the limits: the
// tracker said outright that both ids are one person.
func (s *Service) mergeRefusal(ctx context.Context, tx *store.Tx, a, b id.ID, targetCounts map[identifier.Kind]int, alias bool) (string, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM customer_merge_blocks k
		JOIN customers x ON x.id = k.a JOIN customers y ON y.id = k.b
		WHERE (x.root_id = ? AND y.root_id = ?) OR (x.root_id = ? AND y.root_id = ?)`, a, b, b, a).Scan(&n)
	if err != nil {
		return "", err
	}
	if n > 0 {
		return "unmerged", nil
	}
	if alias {
		return "", nil
	}
	if targetCounts == nil {
		if targetCounts, err = kindCounts(ctx, tx, a); err != nil {
			return "", err
		}
	}
	other, err := kindCounts(ctx, tx, b)
	if err != nil {
		return "", err
	}
	for k, cnt := range other {
		if targetCounts[k]+cnt > identifier.Limit(k) {
			return "limit:" + string(k), nil
		}
	}
	return "", nil
}

// merge puts group b under group a and records why.
func (s *Service) merge(ctx context.Context, tx *store.Tx, a, b id.ID, cause string, ident identifier.Identifier, source, actor string, at time.Time) error {
	if _, err := tx.Exec(ctx, "UPDATE customers SET merged_into = ?, merged_at = ?, updated_at = ? WHERE id = ?", a, at.UnixMicro(), at.UnixMicro(), b); err != nil {
		return fmt.Errorf("merging customer %s into %s: %w", b, a, err)
	}
	if _, err := tx.Exec(ctx, "UPDATE customers SET root_id = ? WHERE root_id = ?", a, b); err != nil {
		return fmt.Errorf("merging customer %s into %s: %w", b, a, err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO customer_merges (id, survivor_id, merged_id, cause, cause_kind, cause_value, source, actor, merged_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, tx.NewID(), a, b, cause, string(ident.Kind), ident.Value, source, actor, at.UnixMicro())
	return err
}

func recordConflict(ctx context.Context, tx *store.Tx, ident identifier.Identifier, customerID, other id.ID, rule, source string, at time.Time) error {
	var o any
	if other != 0 {
		o = other
	}
	_, err := tx.Exec(ctx, `INSERT INTO identity_conflicts (id, kind, value, customer_id, other_id, rule, source, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, tx.NewID(), string(ident.Kind), ident.Value, customerID, o, rule, source, at.UnixMicro())
	return err
}

// touch records the contact on the root row: last seen, and traits when given.
func (s *Service) touch(ctx context.Context, tx *store.Tx, root id.ID, ev Evidence, at time.Time) error {
	if len(ev.Traits) == 0 && ev.Kind == "" {
		// Cheap path for the common event: only move last_seen_at forward.
		_, err := tx.Exec(ctx, "UPDATE customers SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
			at.UnixMicro(), root, at.UnixMicro())
		return err
	}
	var traitsJSON, name, kind string
	var lastSeen int64
	if err := tx.QueryRow(ctx, "SELECT traits, name, kind, last_seen_at FROM customers WHERE id = ?", root).
		Scan(&traitsJSON, &name, &kind, &lastSeen); err != nil {
		return err
	}
	traits := map[string]any{}
	if err := json.Unmarshal([]byte(traitsJSON), &traits); err != nil {
		return fmt.Errorf("customer %s traits: %w", root, err)
	}
	for k, v := range ev.Traits {
		// Group memberships add up (Segment group calls name one group each).
		if old, ok := traits[k].(map[string]any); ok && k == "groups" {
			if nv, ok := v.(map[string]any); ok {
				maps.Copy(old, nv)
				continue
			}
		}
		traits[k] = v
	}
	b, err := json.Marshal(traits)
	if err != nil {
		return errs.Invalidf("traits", "cannot be stored: %v", err)
	}
	if ev.Kind != "" {
		kind = ev.Kind
	}
	newName := name
	if n := nameFromTraits(ev.Traits); n != "" {
		newName = n
	}
	lastSeen = max(lastSeen, at.UnixMicro())
	if _, err := tx.Exec(ctx, "UPDATE customers SET traits = ?, name = ?, kind = ?, updated_at = ?, last_seen_at = ? WHERE id = ?",
		string(b), newName, kind, s.now().UnixMicro(), lastSeen, root); err != nil {
		return err
	}
	if newName != name {
		return setNameTokens(ctx, tx, root, newName)
	}
	return nil
}

func setNameTokens(ctx context.Context, tx *store.Tx, customerID id.ID, name string) error {
	if _, err := tx.Exec(ctx, "DELETE FROM customer_name_tokens WHERE customer_id = ?", customerID); err != nil {
		return err
	}
	for _, tok := range nameTokens(name) {
		if _, err := tx.Exec(ctx, "INSERT INTO customer_name_tokens (token, customer_id) VALUES (?, ?) ON CONFLICT DO NOTHING", tok, customerID); err != nil {
			return err
		}
	}
	return nil
}

// nameTokens splits a name into lower-case words for search.
func nameTokens(name string) []string {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) > 8 {
		words = words[:8]
	}
	out := words[:0]
	for _, w := range words {
		if len(w) <= 64 && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// withinLimits tells whether a new customer can take all of idents.
func withinLimits(idents []identifier.Identifier) bool {
	counts := map[identifier.Kind]int{}
	for _, i := range idents {
		if counts[i.Kind]++; counts[i.Kind] > identifier.Limit(i.Kind) {
			return false
		}
	}
	return true
}

func dedupe(in []identifier.Identifier) []identifier.Identifier {
	out := make([]identifier.Identifier, 0, len(in))
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b identifier.Identifier) int {
		return identifier.Priority(a.Kind) - identifier.Priority(b.Kind)
	})
	return out
}
