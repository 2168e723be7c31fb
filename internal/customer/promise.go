package customer

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/identifier"
)

// Promises resolves contacts to customers in memory, before they are
// stored: the journaled event ingest acknowledges a batch once it is in the
// journal, and each of its events has been resolved here to the customer it
// belongs to. The store catches up later and resolves again with Resolve,
// which has the last word; it lands on the promised customer unless another
// writer changed who holds an identifier meanwhile (another node, or a
// synchronous API call with the same identifier), and then it links the
// contact to the customer the store says, as it would have at once.
//
// Identifiers never change holder once stored (merges move the root, not
// the holder), so what the store says about an identifier can be kept; an
// identifier promised but not yet stored is kept as pending until the
// store has it, and its promise is released then.
type Promises struct {
	s *Service

	mu      sync.Mutex
	held    map[identifier.Identifier]id.ID // as stored; cleared when it grows past maxHeld
	pending map[identifier.Identifier]pendingHold
	kinds   map[id.ID]map[identifier.Kind]int // pending identifiers per customer
	byToken map[uint64][]identifier.Identifier
	fresh   map[id.ID]uint64 // customers promised new, by the token that created them
	freshBy map[uint64][]id.ID
	token   uint64
}

type pendingHold struct {
	customer id.ID
	token    uint64
}

// maxHeld bounds the memory the stored-holder cache takes (about 100 bytes
// an entry); past it the cache starts over.
const maxHeld = 1 << 19

// NewPromises returns an empty promise book over the service's store.
func (s *Service) NewPromises() *Promises {
	return &Promises{
		s:       s,
		held:    map[identifier.Identifier]id.ID{},
		pending: map[identifier.Identifier]pendingHold{},
		kinds:   map[id.ID]map[identifier.Kind]int{},
		byToken: map[uint64][]identifier.Identifier{},
		fresh:   map[id.ID]uint64{},
		freshBy: map[uint64][]id.ID{},
		// Tokens of journal records written before a restart must not
		// release promises made after it.
		token: uint64(time.Now().UnixNano()),
	}
}

// Promise resolves each contact, given by its normalized identifiers, to
// a customer (a new one is created with that id when stored), with the rules of Resolve: the holder of the strongest known
// identifier, or a new customer when none is known or when a stronger new
// identifier cannot go to the known one (a second user id on a shared
// device). Identifiers the promised customer takes are pending until
// Release(token).
func (p *Promises) Promise(ctx context.Context, contacts [][]identifier.Identifier) (token uint64, out []id.ID, err error) {
	var all []identifier.Identifier
	for i := range contacts {
		contacts[i] = dedupe(contacts[i])
		all = append(all, contacts[i]...)
	}
	// Ask the store, outside the lock, about what is neither cached nor pending.
	p.mu.Lock()
	var ask []identifier.Identifier
	asked := map[identifier.Identifier]bool{}
	for _, ident := range all {
		if _, ok := p.held[ident]; ok {
			continue
		}
		if _, ok := p.pending[ident]; ok {
			continue
		}
		if !asked[ident] {
			asked[ident] = true
			ask = append(ask, ident)
		}
	}
	p.mu.Unlock()
	stored := map[identifier.Identifier]id.ID{}
	if len(ask) > 0 {
		found, err := holders(ctx, p.s.db.QueryPlannedEach, ask)
		if err != nil {
			return 0, nil, err
		}
		for _, f := range found {
			stored[f.ident] = f.customerID
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) > maxHeld {
		clear(p.held)
	}
	for k, v := range stored {
		p.held[k] = v
	}
	p.token++
	token = p.token
	out = make([]id.ID, len(contacts))
	for i, idents := range contacts {
		var hits []identifier.Identifier
		var holder id.ID
		var misses []identifier.Identifier
		for _, ident := range idents {
			c, ok, err := p.holderLocked(ctx, ident, asked)
			if err != nil {
				p.releaseLocked(token)
				return 0, nil, err
			}
			if !ok {
				misses = append(misses, ident)
				continue
			}
			if len(hits) == 0 {
				holder = c
			}
			hits = append(hits, ident)
		}
		var counts map[identifier.Kind]int
		if len(hits) > 0 && len(misses) > 0 {
			if counts, err = p.countsLocked(ctx, holder); err != nil {
				p.releaseLocked(token)
				return 0, nil, err
			}
			for _, m := range misses {
				if identifier.Priority(m.Kind) < identifier.Priority(hits[0].Kind) && counts[m.Kind] >= identifier.Limit(m.Kind) {
					hits = nil // another person who shares the weaker identifier
					break
				}
			}
		}
		if len(hits) == 0 {
			holder = p.s.db.IDs.New()
			counts = map[identifier.Kind]int{}
			p.fresh[holder] = token
			p.freshBy[token] = append(p.freshBy[token], holder)
		}
		out[i] = holder
		for _, m := range misses {
			if counts[m.Kind] >= identifier.Limit(m.Kind) {
				continue // Resolve refuses it too
			}
			counts[m.Kind]++
			p.pending[m] = pendingHold{customer: holder, token: token}
			if p.kinds[holder] == nil {
				p.kinds[holder] = map[identifier.Kind]int{}
			}
			p.kinds[holder][m.Kind]++
			p.byToken[token] = append(p.byToken[token], m)
		}
	}
	return token, out, nil
}

// holderLocked says who holds ident: pending promises first, then the store.
func (p *Promises) holderLocked(ctx context.Context, ident identifier.Identifier, asked map[identifier.Identifier]bool) (id.ID, bool, error) {
	if h, ok := p.pending[ident]; ok {
		return h.customer, true, nil
	}
	if c, ok := p.held[ident]; ok {
		return c, true, nil
	}
	if asked[ident] {
		return 0, false, nil
	}
	// It was pending (or cached) when the store was asked, and has been
	// stored and released (or dropped from the cache) since: ask again.
	found, err := holders(ctx, p.s.db.QueryPlannedEach, []identifier.Identifier{ident})
	if err != nil || len(found) == 0 {
		return 0, false, err
	}
	p.held[ident] = found[0].customerID
	return found[0].customerID, true, nil
}

// countsLocked counts the identifiers per kind of the group of c: those
// stored and those promised.
func (p *Promises) countsLocked(ctx context.Context, c id.ID) (map[identifier.Kind]int, error) {
	counts := map[identifier.Kind]int{}
	if _, ok := p.fresh[c]; ok {
		maps.Copy(counts, p.kinds[c]) // promised new: nothing of it is stored yet
		return counts, nil
	}
	var root id.ID
	err := p.s.db.QueryRow(ctx, "SELECT root_id FROM customers WHERE id = ?", c).Scan(&root)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Promised and not stored yet.
	case err != nil:
		return nil, err
	default:
		if counts, err = groupKindCounts(ctx, p.s.db, root); err != nil {
			return nil, err
		}
	}
	for k, n := range p.kinds[c] {
		counts[k] += n
	}
	return counts, nil
}

// Release forgets the identifiers promised under token: the store holds
// them now (or the journal refused the batch, and nobody was told).
func (p *Promises) Release(token uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(token)
}

func (p *Promises) releaseLocked(token uint64) {
	for _, c := range p.freshBy[token] {
		delete(p.fresh, c)
	}
	delete(p.freshBy, token)
	idents, ok := p.byToken[token]
	if !ok {
		return
	}
	delete(p.byToken, token)
	for _, ident := range idents {
		h, ok := p.pending[ident]
		if !ok || h.token != token {
			continue
		}
		delete(p.pending, ident)
		if k := p.kinds[h.customer]; k != nil {
			if k[ident.Kind]--; k[ident.Kind] <= 0 {
				delete(k, ident.Kind)
			}
			if len(k) == 0 {
				delete(p.kinds, h.customer)
			}
		}
	}
}
