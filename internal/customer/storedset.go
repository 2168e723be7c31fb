package customer

import (
	"context"
	"hash/maphash"
	"math/bits"
	"sync/atomic"

	"github.com/touchpoint-hub/touchpoint/internal/identifier"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// storedSet is a Bloom filter of the identifiers in the store. An
// identifier it has never seen is certainly not stored, so the event API's
// promises need not ask the store about a first-time visitor (those
// lookups were a sixth of the event API's CPU). It is kept on SQLite only,
// where this process is the store's one writer and sees every identifier
// linked (insertIdentifier adds to it); PostgreSQL nodes share a store they
// do not see all writes of. An identifier it holds may or may not be
// stored: the store is asked then, as without it.
//
// Each identifier sets bits in one 64-bit word (a blocked filter), so that
// an insert touches one cache line. It is sized for four times the
// identifiers stored when it was built, at 16 bits an identifier; past
// that it answers "maybe" more often, never wrongly.
type storedSet struct {
	seed   maphash.Seed
	chunks []atomic.Pointer[[chunkWords]atomic.Uint64] // allocated on first use
	mask   uint64                                      // words - 1
	ready  atomic.Bool                                 // filled from the store
}

// chunkWords is how many words are allocated together: the filter of an
// empty store takes no memory until identifiers are linked (the idle node
// stays small).
const chunkWords = 4096

// probes is how many bits of its word an identifier sets.
const probes = 4

func newStoredSet(identifiers int) *storedSet {
	n := max(identifiers, 1<<16) * 4 * 16 / 64 // words
	n = max(1<<bits.Len(uint(n-1)), chunkWords)
	return &storedSet{seed: maphash.MakeSeed(), chunks: make([]atomic.Pointer[[chunkWords]atomic.Uint64], n/chunkWords), mask: uint64(n - 1)}
}

// locate finds ident's word (nil when its chunk is not allocated and
// create is false) and bits: the word from the hash's low bits, the bits
// from six-bit slices of the rest.
func (f *storedSet) locate(ident identifier.Identifier, create bool) (*atomic.Uint64, uint64) {
	h := maphash.Comparable(f.seed, ident)
	w := h & f.mask
	slot := &f.chunks[w/chunkWords]
	chunk := slot.Load()
	if chunk == nil {
		if !create {
			return nil, 0
		}
		slot.CompareAndSwap(nil, new([chunkWords]atomic.Uint64)) // or another goroutine did
		chunk = slot.Load()
	}
	var m uint64
	for i := range probes {
		m |= 1 << ((h >> (40 + 6*i)) & 63)
	}
	return &chunk[w%chunkWords], m
}

func (f *storedSet) add(ident identifier.Identifier) {
	w, m := f.locate(ident, true)
	w.Or(m)
}

// absent reports whether ident is certainly not stored.
func (f *storedSet) absent(ident identifier.Identifier) bool {
	if !f.ready.Load() {
		return false
	}
	w, m := f.locate(ident, false)
	return w == nil || w.Load()&m != m
}

// trackStored starts keeping the filter of stored identifiers (SQLite), in
// the background: counting and reading a large store's identifiers must
// not hold up the start. Idempotent.
func (s *Service) trackStored(ctx context.Context) {
	if s.db.Dialect != store.SQLite || !s.tracking.CompareAndSwap(false, true) {
		return
	}
	go func() {
		var n int
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM identifiers").Scan(&n); err != nil {
			return // without the filter the store is asked, as before
		}
		f := newStoredSet(n)
		s.stored.Store(f)
		// Writes are serialized on SQLite: once an empty write has gone
		// through, every transaction that linked an identifier before the
		// filter existed has ended, and the scan below sees what it stored;
		// those since have added to the filter themselves.
		if err := s.db.Write(ctx, func(context.Context, *store.Tx) error { return nil }); err != nil {
			return
		}
		rows, err := s.db.Query(ctx, "SELECT kind, value FROM identifiers")
		if err != nil {
			return
		}
		defer rows.Close()
		for rows.Next() {
			var ident identifier.Identifier
			if err := rows.Scan(&ident.Kind, &ident.Value); err != nil {
				return
			}
			f.add(ident)
		}
		if rows.Err() == nil {
			f.ready.Store(true)
		}
	}()
}

// linked notes an identifier just linked to a customer.
func (s *Service) linked(ident identifier.Identifier) {
	if f := s.stored.Load(); f != nil {
		f.add(ident)
	}
}
