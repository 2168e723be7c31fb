package bus

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// defaultBuffer is how many events a subscription holds before it lags: a
// page that is a few seconds behind on a busy case catches up, one that stopped
// reading does not hold memory.
const defaultBuffer = 16

// Local is the in-process bus of one node. It is safe for concurrent use.
type Local struct {
	node   string
	buffer int // events a subscription holds before it lags

	mu     sync.RWMutex
	topics map[string]map[*Subscription]struct{} // topic → subscribers: fan-out touches only these
	subs   map[*Subscription]struct{}            // all open subscriptions, including those without topics
	closed bool

	// scratch holds *[]*Subscription slices reused by deliver, so that
	// publishing to thousands of subscribers does not allocate a list each time.
	scratch sync.Pool
}

// NewLocal returns an in-process bus with a random node id.
func NewLocal() *Local {
	return newLocal(newNodeID(), defaultBuffer)
}

// Node is the id this bus stamps on the events it publishes.
func (l *Local) Node() string { return l.node }

func newLocal(node string, buffer int) *Local {
	return &Local{
		node:   node,
		buffer: buffer,
		topics: make(map[string]map[*Subscription]struct{}),
		subs:   make(map[*Subscription]struct{}),
		scratch: sync.Pool{New: func() any {
			s := make([]*Subscription, 0, 64)
			return &s
		}},
	}
}

// PublishAll publishes each event in order.
func (l *Local) PublishAll(ctx context.Context, es []Event) error {
	for _, e := range es {
		if err := l.Publish(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// Publish delivers e to the subscribers of its topics at once; it never
// blocks on a subscriber. ctx is not used: delivery does not wait.
func (l *Local) Publish(_ context.Context, e Event) error {
	e, err := prepare(e, l.node)
	if err != nil {
		return err
	}
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	l.deliver(e)
	return nil
}

// Subscribe returns a subscription to topics.
func (l *Local) Subscribe(topics ...string) *Subscription {
	// One extra slot so that the lagged marker always fits (see send).
	s := &Subscription{bus: l, ch: make(chan Event, l.buffer+1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		s.removed = true
		s.closed = true
		close(s.ch)
		return s
	}
	l.subs[s] = struct{}{}
	l.setLocked(s, topics)
	return s
}

// Close closes every subscription. Publish then returns ErrClosed and
// Subscribe returns subscriptions whose channel is already closed.
func (l *Local) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	subs := make([]*Subscription, 0, len(l.subs))
	for s := range l.subs {
		s.removed = true
		s.topics = nil
		subs = append(subs, s)
	}
	clear(l.subs)
	clear(l.topics)
	l.mu.Unlock()
	for _, s := range subs {
		s.closeChan()
	}
	return nil
}

// deliver sends e to every subscriber of at least one of its topics, once.
func (l *Local) deliver(e Event) {
	p := l.scratch.Get().(*[]*Subscription)
	targets := l.collect((*p)[:0], e.Topics)
	for _, s := range targets {
		s.send(e)
	}
	clear(targets) // do not let the pool keep closed subscriptions alive
	*p = targets[:0]
	l.scratch.Put(p)
}

// collect appends the subscribers of topics to dst, each once. The read lock
// is held only while copying, not while sending, so that subscribing and
// closing do not wait for a large fan-out.
func (l *Local) collect(dst []*Subscription, topics []string) []*Subscription {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for i, t := range topics {
		if slices.Contains(topics[:i], t) {
			continue
		}
		for s := range l.topics[t] {
			// A subscriber of an earlier topic of the event already has it.
			if i > 0 && s.hasAny(topics[:i]) {
				continue
			}
			dst = append(dst, s)
		}
	}
	return dst
}

// lagAll marks every subscription lagged: used when events may have been
// missed for all of them (the cross-node listener was disconnected).
func (l *Local) lagAll() {
	l.mu.RLock()
	subs := make([]*Subscription, 0, len(l.subs))
	for s := range l.subs {
		subs = append(subs, s)
	}
	l.mu.RUnlock()
	for _, s := range subs {
		s.lag()
	}
}

// setLocked replaces the topics of s. l.mu must be held for writing.
func (l *Local) setLocked(s *Subscription, topics []string) {
	next := make(map[string]struct{}, len(topics))
	for _, t := range topics {
		next[t] = struct{}{}
	}
	for t := range s.topics {
		if _, keep := next[t]; keep {
			continue
		}
		subs := l.topics[t]
		delete(subs, s)
		if len(subs) == 0 {
			delete(l.topics, t) // do not let topics of closed cases accumulate
		}
	}
	for t := range next {
		if _, had := s.topics[t]; had {
			continue
		}
		subs := l.topics[t]
		if subs == nil {
			subs = make(map[*Subscription]struct{})
			l.topics[t] = subs
		}
		subs[s] = struct{}{}
	}
	s.topics = next
}

// Subscription receives the events of its topics on C until it is closed.
type Subscription struct {
	bus *Local
	ch  chan Event

	// Guarded by bus.mu.
	topics  map[string]struct{}
	removed bool

	mu     sync.Mutex // serialises sends with closing the channel
	closed bool       // guarded by mu
	lagged atomic.Bool
}

// C returns the channel of events. It is closed when the subscription or its
// bus is closed. After an event of type TypeLagged it receives nothing more.
func (s *Subscription) C() <-chan Event { return s.ch }

// Lagged reports whether events were dropped because the subscriber did not
// read fast enough (or the node lost its connection to the other nodes); the
// page should reload.
func (s *Subscription) Lagged() bool { return s.lagged.Load() }

// Set replaces the topics of the subscription, for a page that navigates.
// Events already buffered stay in C.
func (s *Subscription) Set(topics ...string) {
	l := s.bus
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.removed {
		return
	}
	l.setLocked(s, topics)
}

// Close removes the subscription from its bus and closes C. It may be called
// more than once and concurrently with Publish.
func (s *Subscription) Close() {
	l := s.bus
	l.mu.Lock()
	if !s.removed {
		s.removed = true
		l.setLocked(s, nil)
		s.topics = nil
		delete(l.subs, s)
	}
	l.mu.Unlock()
	s.closeChan()
}

func (s *Subscription) closeChan() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// hasAny reports whether s is subscribed to one of topics. bus.mu must be held.
func (s *Subscription) hasAny(topics []string) bool {
	for _, t := range topics {
		if _, ok := s.topics[t]; ok {
			return true
		}
	}
	return false
}

// send delivers e without blocking: once the buffer is full the subscription
// is lagged and gets the lagged marker instead, then nothing more, because a
// stream with a gap would mislead the page.
func (s *Subscription) send(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.lagged.Load() {
		return
	}
	// The last slot of the buffer is kept for the lagged marker. Only senders
	// holding s.mu add to the channel and the reader only removes, so a send
	// after this check cannot block.
	if len(s.ch) < cap(s.ch)-1 {
		s.ch <- e
		return
	}
	s.lagLocked()
}

func (s *Subscription) lag() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.lagged.Load() {
		return
	}
	s.lagLocked()
}

func (s *Subscription) lagLocked() {
	s.lagged.Store(true)
	select {
	case s.ch <- Event{Type: TypeLagged, At: time.Now().UTC(), Node: s.bus.node}:
	default: // cannot happen while the reserved slot is free; never block
	}
}
