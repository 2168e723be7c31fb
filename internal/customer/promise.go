package customer

import (
	"context"
	"hash/maphash"
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
//
// The books hold no pointers (identifiers are kept as 64-bit hashes), so
// that the collector does not walk them: a burst leaves hundreds of
// thousands of promises open, and walking them cost as much CPU as serving
// the requests. Two identifiers with the same hash can only misdirect a
// promise, which the store then corrects as it does a promise overtaken by
// another writer.
type Promises struct {
	s    *Service
	seed maphash.Seed

	mu      sync.Mutex
	held    map[identKey]id.ID // as stored; cleared when it grows past maxHeld
	pending map[identKey]pendingHold
	kinds   map[customerKind]int // pending identifiers per customer and kind
	byToken map[uint64][]promisedIdent
	fresh   map[id.ID]uint64 // customers promised new, by the token that created them
	freshBy map[uint64][]id.ID
	token   uint64
}

// identKey is the hash of a normalized identifier.
type identKey uint64

type pendingHold struct {
	customer id.ID
	token    uint64
}

type customerKind struct {
	customer id.ID
	kind     uint64 // the hash of the kind's name
}

type promisedIdent struct {
	key  identKey
	kind uint64
}

// maxHeld bounds the memory the stored-holder cache takes; past it the
// cache starts over.
const maxHeld = 1 << 19

// NewPromises returns an empty promise book over the service's store.
func (s *Service) NewPromises() *Promises {
	s.trackStored(context.Background())
	return &Promises{
		s:       s,
		seed:    maphash.MakeSeed(),
		held:    map[identKey]id.ID{},
		pending: map[identKey]pendingHold{},
		kinds:   map[customerKind]int{},
		byToken: map[uint64][]promisedIdent{},
		fresh:   map[id.ID]uint64{},
		freshBy: map[uint64][]id.ID{},
		// Tokens of journal records written before a restart must not
		// release promises made after it.
		token: uint64(time.Now().UnixNano()),
	}
}

func (p *Promises) key(ident identifier.Identifier) identKey {
	return identKey(maphash.Comparable(p.seed, ident))
}

func (p *Promises) kindKey(k identifier.Kind) uint64 { return maphash.String(p.seed, string(k)) }

// Promise resolves each contact, given by its normalized identifiers, to
// a customer (a new one is created with that id when stored), with the rules of Resolve: the holder of the strongest known
// identifier, or a new customer when none is known or when a stronger new
// identifier cannot go to the known one (a second user id on a shared
// device). Identifiers the promised customer takes are pending until
// Release(token).
func (p *Promises) Promise(ctx context.Context, contacts [][]identifier.Identifier) (token uint64, out []id.ID, err error) {
	// The contacts' identifiers side by side, hashed once: contact i's are
	// all[at[i]:at[i+1]].
	at := make([]int, len(contacts)+1)
	for i := range contacts {
		contacts[i] = dedupe(contacts[i])
		at[i+1] = at[i] + len(contacts[i])
	}
	all := make([]identifier.Identifier, 0, at[len(contacts)])
	for _, idents := range contacts {
		all = append(all, idents...)
	}
	keys := make([]promisedIdent, len(all))
	for k, ident := range all {
		keys[k] = promisedIdent{key: p.key(ident), kind: p.kindKey(ident.Kind)}
	}
	// Ask the store, outside the lock, about what is neither cached nor
	// pending nor certainly absent from the store (a first-time visitor).
	// A holder found cached stays right: a stored identifier never changes
	// holder.
	filter := p.s.stored.Load()
	cached := make([]id.ID, len(all))
	asked := make([]bool, len(all)) // asked, or known to be absent
	var ask []identifier.Identifier
	var askedKeys map[identKey]bool
	p.mu.Lock()
	for k, pk := range keys {
		if c, ok := p.held[pk.key]; ok {
			cached[k] = c
			continue
		}
		if _, ok := p.pending[pk.key]; ok {
			continue
		}
		asked[k] = true
		if askedKeys[pk.key] {
			continue
		}
		if askedKeys == nil {
			askedKeys = map[identKey]bool{}
		}
		askedKeys[pk.key] = true
		if filter == nil || !filter.absent(all[k]) {
			ask = append(ask, all[k])
		}
	}
	p.mu.Unlock()
	var found []found
	if len(ask) > 0 {
		if found, err = holders(ctx, p.s.db.QueryPlannedEach, ask); err != nil {
			return 0, nil, err
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) > maxHeld {
		clear(p.held)
	}
	for _, f := range found {
		p.held[p.key(f.ident)] = f.customerID
	}
	p.token++
	token = p.token
	// What this token promises, recorded at the end (or before a release).
	var promised []promisedIdent
	var freshIDs []id.ID
	fail := func(err error) (uint64, []id.ID, error) {
		p.byToken[token], p.freshBy[token] = promised, freshIDs
		p.releaseLocked(token)
		return 0, nil, err
	}
	out = make([]id.ID, len(contacts))
	for i := range contacts {
		var hits, misses []int // indexes into all
		var holder id.ID
		for k := at[i]; k < at[i+1]; k++ {
			c := cached[k]
			if c == 0 {
				var ok bool
				if c, ok, err = p.holderLocked(ctx, all[k], keys[k].key, asked[k]); err != nil {
					return fail(err)
				}
				if !ok {
					misses = append(misses, k)
					continue
				}
			}
			if len(hits) == 0 {
				holder = c
			}
			hits = append(hits, k)
		}
		var stored map[identifier.Kind]int // the holder's group's stored identifiers per kind
		if len(hits) > 0 && len(misses) > 0 {
			if stored, err = p.storedCountsLocked(ctx, holder); err != nil {
				return fail(err)
			}
			strongest := identifier.Priority(all[hits[0]].Kind)
			for _, m := range misses {
				if identifier.Priority(all[m].Kind) < strongest && p.countLocked(stored, holder, all[m].Kind, keys[m].kind) >= identifier.Limit(all[m].Kind) {
					hits = nil // another person who shares the weaker identifier
					break
				}
			}
		}
		fresh := len(hits) == 0
		if fresh {
			holder, stored = p.s.db.IDs.New(), nil
			p.fresh[holder] = token
			freshIDs = append(freshIDs, holder)
		}
		out[i] = holder
		from := len(promised)
		for _, m := range misses {
			var have int
			if fresh {
				// Nothing of a new customer is stored or promised
				// elsewhere: count what it took just now.
				for _, q := range promised[from:] {
					if q.kind == keys[m].kind {
						have++
					}
				}
			} else {
				have = p.countLocked(stored, holder, all[m].Kind, keys[m].kind)
			}
			if have >= identifier.Limit(all[m].Kind) {
				continue // Resolve refuses it too
			}
			p.pending[keys[m].key] = pendingHold{customer: holder, token: token}
			p.kinds[customerKind{holder, keys[m].kind}]++
			promised = append(promised, keys[m])
		}
	}
	if len(promised) > 0 {
		p.byToken[token] = promised
	}
	if len(freshIDs) > 0 {
		p.freshBy[token] = freshIDs
	}
	return token, out, nil
}

// holderLocked says who holds ident (whose key is k): pending promises
// first, then the store. asked: the store was asked about it (or it is
// known to be absent) since the lock was taken last.
func (p *Promises) holderLocked(ctx context.Context, ident identifier.Identifier, k identKey, asked bool) (id.ID, bool, error) {
	if h, ok := p.pending[k]; ok {
		return h.customer, true, nil
	}
	if c, ok := p.held[k]; ok {
		return c, true, nil
	}
	if asked {
		return 0, false, nil
	}
	// It was pending when the store was asked, and has been stored and
	// released since: ask again.
	found, err := holders(ctx, p.s.db.QueryPlannedEach, []identifier.Identifier{ident})
	if err != nil || len(found) == 0 {
		return 0, false, err
	}
	p.held[k] = found[0].customerID
	return found[0].customerID, true, nil
}

// storedCountsLocked counts the stored identifiers per kind of the group of
// c (none when c is promised and not stored yet).
func (p *Promises) storedCountsLocked(ctx context.Context, c id.ID) (map[identifier.Kind]int, error) {
	if _, ok := p.fresh[c]; ok {
		return nil, nil // promised new: nothing of it is stored yet
	}
	return groupKindCounts(ctx, p.s.db, p.s.db.Dialect, c)
}

// countLocked is how many identifiers of kind k (whose hash is kk) customer
// c holds: stored (as counted by storedCountsLocked) and promised.
func (p *Promises) countLocked(stored map[identifier.Kind]int, c id.ID, k identifier.Kind, kk uint64) int {
	return stored[k] + p.kinds[customerKind{c, kk}]
}

// Release forgets the identifiers promised under token: the store holds
// them now (or the journal refused the batch, and nobody was told).
func (p *Promises) Release(token uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releaseLocked(token)
}

// Stored says the record of token is stored as promised: its identifiers
// are held by the customers promised, and are kept as such, so that the
// next events of those visitors need not ask the store.
func (p *Promises) Stored(token uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.held) > maxHeld {
		clear(p.held)
	}
	for _, pi := range p.byToken[token] {
		if h, ok := p.pending[pi.key]; ok && h.token == token {
			p.held[pi.key] = h.customer
		}
	}
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
	for _, pi := range idents {
		h, ok := p.pending[pi.key]
		if !ok || h.token != token {
			continue
		}
		delete(p.pending, pi.key)
		ck := customerKind{h.customer, pi.kind}
		if p.kinds[ck]--; p.kinds[ck] <= 0 {
			delete(p.kinds, ck)
		}
	}
}
