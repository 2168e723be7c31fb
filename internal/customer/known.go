package customer

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Known is what a transaction has learned about identifiers: who holds
// them, or that nobody does. A batch of events looks up all its identifiers
// in a few queries (Preload) instead of one query per identifier per event,
// and Resolve keeps the entries true as it links and merges. It belongs to
// one transaction and dies with it. A nil *Known looks everything up.
type Known struct {
	m map[identifier.Identifier]found // found.customerID == 0: nobody holds it
	// customers is the change to the customer total not yet written (Flush).
	customers int64
	// lastSeen holds, per customer, the latest contact not yet written (Flush).
	lastSeen map[id.ID]int64
	// created are customers resolved to but not written yet (FlushCreated);
	// only on PostgreSQL, where a statement each cost a round trip.
	created      []pendingCustomer
	deferCreates bool
}

type pendingCustomer struct {
	id     id.ID
	kind   string
	at     int64
	source string
	idents []identifier.Identifier
}

func (k *Known) defersCreation() bool { return k != nil && k.deferCreates }

func (k *Known) create(c pendingCustomer) { k.created = append(k.created, c) }

// PromiseTaken says that customers could not be created with their
// promised ids, because customers have them: the batch must be resolved
// again without those promises.
type PromiseTaken struct{ IDs []id.ID }

func (e *PromiseTaken) Error() string {
	return fmt.Sprintf("%d promised customer ids are taken", len(e.IDs))
}

// createdChunk bounds the rows of one statement of FlushCreated.
const createdChunk = 500

// FlushCreated writes the customers put off so far and their identifiers,
// in a statement or two per 500.
func (k *Known) FlushCreated(ctx context.Context, tx *store.Tx) error {
	if k == nil || len(k.created) == 0 {
		return nil
	}
	created := k.created
	k.created = nil
	var taken []id.ID
	for start := 0; start < len(created); start += createdChunk {
		chunk := created[start:min(start+createdChunk, len(created))]
		args := make([]any, 0, 6*len(chunk))
		for _, c := range chunk {
			args = append(args, c.id, c.id, c.kind, c.at, c.at, c.at)
		}
		rows, err := tx.QueryPlannedEach(ctx, `INSERT INTO customers (id, root_id, kind, created_at, updated_at, last_seen_at) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(chunk)), ", ")+` ON CONFLICT (id) DO NOTHING RETURNING id`, args...)
		if err != nil {
			return fmt.Errorf("creating customers: %w", err)
		}
		made := map[id.ID]bool{}
		for rows.Next() {
			var c id.ID
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			made[c] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("creating customers: %w", err)
		}
		for _, c := range chunk {
			if !made[c.id] {
				taken = append(taken, c.id)
			}
		}
	}
	if len(taken) > 0 {
		return &PromiseTaken{IDs: taken}
	}
	var idents []any
	n := 0
	for _, c := range created {
		for _, i := range c.idents {
			idents = append(idents, string(i.Kind), i.Value, c.id, c.source, c.at)
			n++
		}
	}
	for start := 0; start < n; start += createdChunk {
		end := min(start+createdChunk, n)
		r, err := tx.Exec(ctx, `INSERT INTO identifiers (kind, value, customer_id, source, created_at) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", end-start), ", ")+` ON CONFLICT (kind, value) DO NOTHING`, idents[5*start:5*end]...)
		if err != nil {
			return fmt.Errorf("creating customers' identifiers: %w", err)
		}
		if got, _ := r.RowsAffected(); got != int64(end-start) {
			// A concurrent transaction claimed one of them first.
			return fmt.Errorf("an identifier of a new customer was taken concurrently: %w", store.ErrRetry)
		}
	}
	return nil
}

// seen notes a contact of customer c at us (unix microseconds); Flush
// writes it.
func (k *Known) seen(c id.ID, us int64) {
	if k.lastSeen == nil {
		k.lastSeen = map[id.ID]int64{}
	}
	k.lastSeen[c] = max(k.lastSeen[c], us)
}

// preloadChunk is how many identifiers one preload query asks for. The
// query text is the same for every chunk (short chunks are padded), so the
// statement is prepared once.
const preloadChunk = 64

// Preload looks up idents inside tx.
func (s *Service) Preload(ctx context.Context, tx *store.Tx, idents []identifier.Identifier) (*Known, error) {
	k := &Known{m: make(map[identifier.Identifier]found, len(idents)), deferCreates: tx.Dialect() == store.Postgres}
	var todo []identifier.Identifier
	for _, i := range idents {
		if _, ok := k.m[i]; !ok {
			k.m[i] = found{ident: i}
			todo = append(todo, i)
		}
	}
	held, err := holders(ctx, tx.QueryPlannedEach, todo)
	if err != nil {
		return nil, err
	}
	type row struct {
		root     id.ID
		lastSeen int64
	}
	customers := map[id.ID]row{}
	var ids []id.ID
	args := make([]any, 0, preloadChunk)
	for _, f := range held {
		if _, ok := customers[f.customerID]; !ok {
			customers[f.customerID] = row{}
			ids = append(ids, f.customerID)
		}
	}
	cq := "SELECT id, root_id, last_seen_at FROM customers WHERE id IN (" + store.Placeholders(preloadChunk) + ")"
	for start := 0; start < len(ids); start += preloadChunk {
		chunk := ids[start:min(start+preloadChunk, len(ids))]
		args = args[:0]
		for j := 0; j < preloadChunk; j++ {
			args = append(args, chunk[min(j, len(chunk)-1)])
		}
		rows, err := tx.QueryPlannedEach(ctx, cq, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c id.ID
			var r row
			if err := rows.Scan(&c, &r.root, &r.lastSeen); err != nil {
				rows.Close()
				return nil, err
			}
			customers[c] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for _, f := range held {
		r := customers[f.customerID]
		f.root, f.lastSeen = r.root, r.lastSeen
		k.m[f.ident] = f
	}
	return k, nil
}

// lookupSizes are the sizes of the identifier lookup statements: a chunk
// goes in the smallest that takes it, padded, since every padded pair is
// looked up too (a request's 25 new identifiers padded to 64 cost a third
// more than in a statement of 32).
var lookupSizes = [...]int{8, 16, 32, preloadChunk}

var holdersQuery = func() map[int]string {
	m := map[int]string{}
	for _, n := range lookupSizes {
		m[n] = holdersStatement(n)
	}
	return m
}()

func holdersStatement(n int) string {
	return "SELECT kind, value, customer_id FROM identifiers WHERE (kind, value) IN (VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?),", n), ",") + ")"
}

// queryFunc runs a query planned for its arguments, in a transaction or on
// the readers (QueryPlannedEach of store.Tx and store.DB).
type queryFunc func(ctx context.Context, q string, args ...any) (*sql.Rows, error)

// holders finds who holds each of idents; those nobody holds are left out.
// Two lookups by primary key rather than one join: with young or stale
// statistics PostgreSQL planned the join as a scan of customers.
func holders(ctx context.Context, query queryFunc, idents []identifier.Identifier) ([]found, error) {
	args := make([]any, 0, 2*preloadChunk)
	var held []found
	for start := 0; start < len(idents); {
		size := preloadChunk
		for _, n := range lookupSizes {
			if len(idents)-start <= n {
				size = n
				break
			}
		}
		chunk := idents[start:min(start+size, len(idents))]
		start += len(chunk)
		args = args[:0]
		for j := 0; j < size; j++ {
			v := chunk[min(j, len(chunk)-1)]
			args = append(args, string(v.Kind), v.Value)
		}
		rows, err := query(ctx, holdersQuery[size], args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var f found
			var kind string
			if err := rows.Scan(&kind, &f.ident.Value, &f.customerID); err != nil {
				rows.Close()
				return nil, err
			}
			f.ident.Kind = identifier.Kind(kind)
			held = append(held, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return held, nil
}

func (k *Known) lookup(ctx context.Context, tx *store.Tx, ident identifier.Identifier) (found, bool, error) {
	if k != nil {
		if f, ok := k.m[ident]; ok {
			return f, f.customerID != 0, nil
		}
	}
	f, ok, err := lookup(ctx, tx, ident)
	if err == nil && k != nil {
		k.m[ident] = f
	}
	return f, ok, err
}

func (k *Known) add(ident identifier.Identifier, f found) {
	if k != nil {
		k.m[ident] = f
	}
}

// merged moves the entries of group b into group a.
func (k *Known) merged(a, b id.ID) {
	if k == nil {
		return
	}
	for i, f := range k.m {
		if f.root == b {
			f.root = a
			k.m[i] = f
		}
	}
}

// count adds delta to the customer total: gathered in k and written by
// Flush, or at once without a Known.
func (k *Known) count(ctx context.Context, tx *store.Tx, delta int64) error {
	if k == nil {
		return tx.AddCounter(ctx, counterName, delta)
	}
	k.customers += delta
	return nil
}

// Flush writes what the transaction changed in the customer total; call it
// once, after the last Resolve with k.
func (k *Known) Flush(ctx context.Context, tx *store.Tx) error {
	if err := k.FlushCreated(ctx, tx); err != nil {
		return err
	}
	d := k.customers
	k.customers = 0
	if err := tx.AddCounter(ctx, counterName, d); err != nil {
		return err
	}
	if len(k.lastSeen) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(k.lastSeen)) // one lock order for every writer
	args := make([]any, 0, 2*preloadChunk)
	for start := 0; start < len(ids); start += preloadChunk {
		chunk := ids[start:min(start+preloadChunk, len(ids))]
		args = args[:0]
		for j := 0; j < preloadChunk; j++ {
			c := chunk[min(j, len(chunk)-1)] // padded: one statement text
			args = append(args, c, k.lastSeen[c])
		}
		if _, err := tx.Exec(ctx, lastSeenUpdate, args...); err != nil {
			return fmt.Errorf("recording when customers were last seen: %w", err)
		}
	}
	clear(k.lastSeen)
	return nil
}

// lastSeenUpdate moves last_seen_at forward for up to preloadChunk
// customers (both dialects take UPDATE … FROM a CTE).
var lastSeenUpdate = "WITH v (id, at) AS (VALUES " +
	strings.TrimSuffix(strings.Repeat("(CAST(? AS BIGINT), CAST(? AS BIGINT)),", preloadChunk), ",") +
	") UPDATE customers SET last_seen_at = v.at FROM v WHERE customers.id = v.id AND customers.last_seen_at < v.at"
