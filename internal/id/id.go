// Package id makes the int64 identifiers of every record: sortable by creation
// time, unique across nodes, and rendered as decimal strings in JSON so that
// JavaScript clients do not lose precision.
package id

import (
	"errors"
	"strconv"
	"sync"
	"time"
)

// ID identifies a record. The layout is 41 bits of milliseconds since the epoch
// below, 10 bits of node number and 12 bits of sequence.
type ID int64

// epoch is 2024-01-01T00:00:00Z; 41 bits of milliseconds last until 2093.
const epoch = 1704067200000

const (
	nodeBits = 10
	seqBits  = 12
	maxNode  = 1<<nodeBits - 1
	maxSeq   = 1<<seqBits - 1
)

// Generator hands out IDs for one node. The zero value is not usable; use NewGenerator.
type Generator struct {
	mu   sync.Mutex
	node int64
	last int64 // last millisecond used
	seq  int64
	now  func() time.Time
}

// NewGenerator returns a generator for node (0..1023). Nodes sharing a database
// must have different numbers.
func NewGenerator(node int) *Generator {
	return &Generator{node: int64(node) & maxNode, now: time.Now}
}

// New returns the next ID. It never goes backwards, also when the wall clock does.
func (g *Generator) New() ID {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := g.now().UnixMilli() - epoch
	if ms < g.last {
		ms = g.last
	}
	if ms == g.last {
		g.seq++
		if g.seq > maxSeq {
			// Sequence exhausted for this millisecond: borrow the next one.
			g.last++
			g.seq = 0
		}
	} else {
		g.last = ms
		g.seq = 0
	}
	return ID(g.last<<(nodeBits+seqBits) | g.node<<seqBits | g.seq)
}

// Time is when the ID was made, to the millisecond.
func (i ID) Time() time.Time {
	return time.UnixMilli(int64(i)>>(nodeBits+seqBits) + epoch).UTC()
}

func (i ID) String() string { return strconv.FormatInt(int64(i), 10) }

// MarshalText renders the ID as a decimal string (JSON: "123").
func (i ID) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(i), 10), nil }

// UnmarshalText accepts the decimal form.
func (i *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// ErrBad is returned by Parse for anything but a positive decimal number.
var ErrBad = errors.New("not a valid id")

// Parse reads the decimal form of an ID.
func Parse(s string) (ID, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, ErrBad
	}
	return ID(v), nil
}
