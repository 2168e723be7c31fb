package engine

import (
	"maps"
	"slices"
	"time"
)

// Channel is the kind of work an item is and an agent has capacity for.
// Any non-empty string is accepted; the constants are the kinds the rest of
// Touchpoint uses.
type Channel string

// Channels used by Touchpoint's adapters.
const (
	ChannelVoice   Channel = "voice"
	ChannelVideo   Channel = "video"
	ChannelChat    Channel = "chat"
	ChannelMessage Channel = "message" // SMS, WhatsApp, social direct messages
	ChannelEmail   Channel = "email"
	ChannelTask    Channel = "task" // callbacks, follow-ups, visits
)

// Presence is an agent's state as far as routing is concerned.
type Presence string

// Presence values. Available and Busy are one "ready" state told apart by
// load: the engine switches between them itself (Busy while the agent has
// accepted work), so SetPresence refuses Busy.
const (
	Available        Presence = "available"
	Busy             Presence = "busy"
	AfterContactWork Presence = "acw"
	Away             Presence = "away"
	Offline          Presence = "offline"
)

// Strategy is how a queue picks among several eligible agents.
type Strategy string

// Strategies. All of them fall back to longest idle and then agent ID, so the
// choice is always deterministic.
const (
	// LongestIdle offers to the agent with no work whose last work ended
	// earliest; agents already working come after all idle ones.
	LongestIdle Strategy = "longest_idle"
	// LeastBusy offers to the agent with the lowest occupancy on the item's
	// channel (held items / capacity), then fewest held items overall.
	LeastBusy Strategy = "least_busy"
	// RoundRobin offers to the agent who was offered work from this queue
	// least recently (never offered comes first).
	RoundRobin Strategy = "round_robin"
	// BestSkill offers to the agent with the highest sum of levels over the
	// skills the item requires.
	BestSkill Strategy = "best_skill"
)

// Priority bounds for queues and items.
const (
	MinPriority = -1000
	MaxPriority = 1000
)

// ServiceLevel is a queue's target: Percent of contacts answered within Within.
type ServiceLevel struct {
	Percent int           `json:"percent"`
	Within  time.Duration `json:"within"`
}

// AbandonTreatment is how a queue's reported service level counts abandons.
type AbandonTreatment string

// Abandon treatments for the service level.
const (
	// AbandonsMissed counts every abandon as a contact not answered in time.
	AbandonsMissed AbandonTreatment = "missed"
	// AbandonsMet counts an abandon within the target time as met (the
	// customer left before the target was missed); later ones as missed.
	AbandonsMet AbandonTreatment = "met"
	// AbandonsExcluded leaves abandons out of the service level.
	AbandonsExcluded AbandonTreatment = "excluded"
)

// OverflowRule widens where a waiting item may go once it has waited After in
// its current queue. QueueID moves it to another queue (whose own rules then
// apply, counted from the move); Skills, when non-nil, replaces the skill
// requirements of the item (queue and item skills) by this set, which is how
// "a wider skill set" is expressed. Either or both may be set.
type OverflowRule struct {
	After   time.Duration  `json:"after"`
	QueueID string         `json:"queue_id,omitempty"`
	Skills  map[string]int `json:"skills"` // null: not replaced; {}: no requirement
}

// Queue is where items wait. Zero values mean "not used" unless said otherwise.
type Queue struct {
	ID string `json:"id"`
	// Channels the queue takes; empty takes any channel.
	Channels []Channel `json:"channels,omitempty"`
	// Skills every item of the queue requires: skill → minimum level.
	Skills map[string]int `json:"skills,omitempty"`
	// Priority is added to each item's own priority.
	Priority int      `json:"priority"`
	Strategy Strategy `json:"strategy,omitempty"` // empty means LongestIdle
	// Target is reported by Stats; routing does not depend on it.
	Target ServiceLevel `json:"target"`
	// SLAbandons is how the wallboard's service level counts abandons
	// (empty means AbandonsMissed). Reporting only; routing ignores it.
	SLAbandons AbandonTreatment `json:"sl_abandons,omitempty"`
	// ShortAbandon leaves abandons that waited less than this out of every
	// reported figure's denominator (zero: none). Reporting only.
	ShortAbandon time.Duration `json:"short_abandon,omitempty"`
	// Overflow rules, in order of After (strictly positive, non-decreasing).
	Overflow []OverflowRule `json:"overflow,omitempty"`
	// MaxWait ends the wait of an item in this queue: it moves to
	// MaxWaitQueueID when set (and known), else it is abandoned with reason
	// "max_wait". Zero means no limit.
	MaxWait        time.Duration `json:"max_wait,omitempty"`
	MaxWaitQueueID string        `json:"max_wait_queue_id,omitempty"`
	// AfterContactWork after completing an item of this queue: zero uses
	// Config.AfterContactWork, negative means none.
	AfterContactWork time.Duration `json:"after_contact_work,omitempty"`
	// PreferredWait is how long an item waits for its preferred agent only:
	// zero uses Config.PreferredWait, negative means no waiting (the preferred
	// agent still gets the item first if ready at that moment).
	PreferredWait time.Duration `json:"preferred_wait,omitempty"`
	// Closed shuts the queue whatever IsOpen says. Items of a closed queue
	// wait but are not offered.
	Closed bool `json:"closed,omitempty"`
	// RejectWhenClosed makes Enqueue refuse items while the queue is closed
	// (calls hear a closed message) instead of letting them wait (email).
	RejectWhenClosed bool `json:"reject_when_closed,omitempty"`
	// IsOpen tells business hours; nil means always open. It is consulted on
	// Tick (for every queue) and on Enqueue (for that queue) only, so it must
	// be cheap and deterministic, and is not part of a snapshot.
	IsOpen func(time.Time) bool `json:"-"`
	// CalendarID names the business-hours calendar the routing service
	// turns into IsOpen; the engine itself does not read it.
	CalendarID string `json:"calendar_id,omitempty"`
}

// Agent is the routing configuration of a person who takes work.
type Agent struct {
	ID string `json:"id"`
	// Skills held: skill → level (higher is better).
	Skills map[string]int `json:"skills,omitempty"`
	// Capacity per channel: how many items of that channel the agent may
	// hold at once (offered or accepted). A channel not listed is not taken.
	Capacity map[Channel]int `json:"capacity,omitempty"`
	// Queues, when not empty, restricts the agent to these queues.
	Queues []string `json:"queues,omitempty"`
}

// WorkItem is something live that needs a person: a call, a chat, an email,
// a callback.
type WorkItem struct {
	ID      string  `json:"id"`
	QueueID string  `json:"queue_id"`
	Channel Channel `json:"channel"`
	// Priority is added to the queue's priority; higher is served first.
	Priority int `json:"priority"`
	// Skills the item requires on top of the queue's: skill → minimum level.
	Skills     map[string]int `json:"skills,omitempty"`
	CustomerID string         `json:"customer_id,omitempty"`
	// PreferredAgentID gets the first chance until PreferredUntil. When empty
	// on Enqueue, the agent who last served CustomerID within
	// Config.PreferredWindow is used; when PreferredUntil is zero on Enqueue
	// the queue's preferred wait is used.
	PreferredAgentID string    `json:"preferred_agent_id,omitempty"`
	PreferredUntil   time.Time `json:"preferred_until"`
	// EnqueuedAt is when the customer started waiting (zero: now). It may be
	// earlier than the Enqueue call (time spent in an IVR), never later.
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// Config holds engine-wide settings. Zero durations take the defaults below;
// negative ones switch the feature off where that makes sense.
type Config struct {
	// OfferTimeout is how long an agent has to accept an offer (default 20s).
	OfferTimeout time.Duration
	// DeclineCooldown keeps an item from going back to an agent who declined
	// or missed it (default 60s; negative: no cooldown).
	DeclineCooldown time.Duration
	// MaxMissedOffers sets an agent Away after that many offers in a row
	// timed out (default 3; negative: never).
	MaxMissedOffers int
	// AgingInterval raises an item's effective priority by one per interval
	// waited (default 30s; negative: no aging).
	AgingInterval time.Duration
	// AfterContactWork after completing an item, unless the queue says
	// otherwise (default 0: none; negative: none).
	AfterContactWork time.Duration
	// PreferredWindow is how long after serving a customer an agent stays
	// their preferred agent (default 24h; negative: never remember).
	PreferredWindow time.Duration
	// PreferredWait is how long an item waits for its preferred agent only
	// (default 20s; negative: no waiting).
	PreferredWait time.Duration
	// Blocking says which channels a held item blocks: while an agent holds
	// an item of channel K (offered or accepted), no new item of a channel in
	// Blocking[K] is offered to them. nil means DefaultBlocking; an empty
	// non-nil map blocks nothing.
	Blocking map[Channel][]Channel
}

// DefaultBlocking: a call or a video call blocks every other channel (a
// person on the phone cannot chat), other channels block nothing beyond
// their own capacity.
func DefaultBlocking() map[Channel][]Channel {
	return map[Channel][]Channel{
		ChannelVoice: {ChannelVideo, ChannelChat, ChannelMessage, ChannelEmail, ChannelTask},
		ChannelVideo: {ChannelVoice, ChannelChat, ChannelMessage, ChannelEmail, ChannelTask},
	}
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			*d = 0
		}
	}
	if c.OfferTimeout <= 0 {
		c.OfferTimeout = 20 * time.Second
	}
	def(&c.DeclineCooldown, time.Minute)
	def(&c.AgingInterval, 30*time.Second)
	def(&c.PreferredWindow, 24*time.Hour)
	def(&c.PreferredWait, 20*time.Second)
	if c.AfterContactWork < 0 {
		c.AfterContactWork = 0
	}
	if c.AgingInterval > 24*time.Hour {
		c.AgingInterval = 24 * time.Hour
	}
	switch {
	case c.MaxMissedOffers == 0:
		c.MaxMissedOffers = 3
	case c.MaxMissedOffers < 0:
		c.MaxMissedOffers = 0
	}
	if c.Blocking == nil {
		c.Blocking = DefaultBlocking()
	} else {
		b := make(map[Channel][]Channel, len(c.Blocking))
		for k, v := range c.Blocking {
			b[k] = slices.Clone(v)
		}
		c.Blocking = b
	}
	return c
}

func cloneSkills(m map[string]int) map[string]int {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func (q Queue) clone() Queue {
	q.Channels = slices.Clone(q.Channels)
	q.Skills = cloneSkills(q.Skills)
	if q.Overflow != nil {
		o := make([]OverflowRule, len(q.Overflow))
		for i, r := range q.Overflow {
			r.Skills = cloneSkills(r.Skills)
			o[i] = r
		}
		q.Overflow = o
	}
	return q
}

func (a Agent) clone() Agent {
	a.Skills = cloneSkills(a.Skills)
	if a.Capacity != nil {
		a.Capacity = maps.Clone(a.Capacity)
	}
	a.Queues = slices.Clone(a.Queues)
	return a
}

func (w WorkItem) clone() WorkItem {
	w.Skills = cloneSkills(w.Skills)
	return w
}

// norm drops the monotonic reading and the location, so that times compare
// and snapshot the same however the caller made them.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Round(0).UTC()
}
