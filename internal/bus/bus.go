// Package bus publishes live events to subscribers inside one node and, with
// PostgreSQL, across all nodes that share the database.
//
// It feeds the Server-Sent Event streams of agents' open pages: a new
// interaction on a case, a case change, an assignment, "agent X is viewing /
// typing on case Y". Events are hints that something changed, not a durable
// log: a subscriber that misses events (see [Subscription.Lagged]) re-reads
// what it shows from the store, and so does a receiver of an event whose Data
// was dropped to fit a NOTIFY payload (see [Event.Truncated]).
//
// Every event carries topics ("case:123", "customer:45", "inbox", "user:7").
// A subscription names the topics it wants and receives each event that has
// at least one of them, exactly once. Fan-out goes through an index from
// topic to subscribers, so publishing costs in proportion to the subscribers
// of the event's topics, not to all subscribers of the node.
//
// Publish never waits for a subscriber: each subscription has a bounded
// buffer, and a subscriber that lets it fill is marked lagged, receives one
// last event of type [TypeLagged] and nothing after it; the page should then
// reload.
//
// [Local] is the in-process bus of a single node. [Postgres] adds delivery to
// the other nodes through PostgreSQL LISTEN/NOTIFY.
package bus

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// TypeLagged is the type of the last event a lagged subscription receives.
const TypeLagged = "lagged"

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("bus: closed")

// Event is one live event.
//
// Subscribers receive the same Topics and Data as every other subscriber of
// the event and must treat them as read-only.
type Event struct {
	Type   string          `json:"type"`   // "interaction.created", "case.updated", "presence", ...
	Topics []string        `json:"topics"` // e.g. "case:123", "customer:45", "inbox", "user:7"
	Data   json.RawMessage `json:"data,omitempty"`
	At     time.Time       `json:"at"`             // set by the bus when zero
	Node   string          `json:"node,omitempty"` // set by the bus: the node that published the event

	// Truncated reports that Data was dropped on the way from another node
	// because the event did not fit in a NOTIFY payload; the receiver re-reads
	// what it needs.
	Truncated bool `json:"truncated,omitempty"`
}

// Bus publishes events to the subscribers of their topics.
type Bus interface {
	// Publish delivers e to the current subscribers of its topics without
	// waiting for any of them. An event without topics reaches nobody.
	Publish(ctx context.Context, e Event) error
	// PublishAll publishes events in order, sending them to other nodes
	// together (one round trip on PostgreSQL instead of one per event).
	PublishAll(ctx context.Context, es []Event) error
	// Node is the id this bus stamps on the events this node publishes.
	Node() string
	// Subscribe returns a subscription to the given topics; it may have none
	// and get them later with Set.
	Subscribe(topics ...string) *Subscription
	// Close closes every subscription; Publish then returns ErrClosed.
	Close() error
}

var (
	_ Bus = (*Local)(nil)
	_ Bus = (*Postgres)(nil)
)

// newNodeID returns a random id that tells this bus's events from other
// nodes' events.
func newNodeID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	return hex.EncodeToString(b[:])
}

// prepare validates e and returns the copy the bus delivers: stamped with the
// node and time, and with its own Topics and Data so that the publisher may
// reuse its slices.
func prepare(e Event, node string) (Event, error) {
	if e.Type == "" {
		return Event{}, errors.New("bus: publish: event has no type")
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return Event{}, fmt.Errorf("bus: publish %s: data is not valid JSON", e.Type)
	}
	e.Topics = slices.Clone(e.Topics)
	e.Data = bytes.Clone(e.Data)
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	e.Node = node
	e.Truncated = false
	return e, nil
}
