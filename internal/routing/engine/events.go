package engine

import "time"

// EventKind names an event type; it is what a store or a bus would key on.
type EventKind string

// Event kinds.
const (
	KindItemQueued         EventKind = "item_queued"
	KindOfferMade          EventKind = "offer_made"
	KindOfferAccepted      EventKind = "offer_accepted"
	KindOfferDeclined      EventKind = "offer_declined"
	KindOfferTimedOut      EventKind = "offer_timed_out"
	KindOfferRevoked       EventKind = "offer_revoked"
	KindItemAssigned       EventKind = "item_assigned"
	KindItemRequeued       EventKind = "item_requeued"
	KindItemCompleted      EventKind = "item_completed"
	KindItemAbandoned      EventKind = "item_abandoned"
	KindItemOverflowed     EventKind = "item_overflowed"
	KindPreferenceReleased EventKind = "preference_released"
	KindPresenceChanged    EventKind = "presence_changed"
	KindAgentRemoved       EventKind = "agent_removed"
	KindQueueStateChanged  EventKind = "queue_state_changed"
)

// Reasons carried by events.
const (
	ReasonCustomer     = "customer"      // the customer hung up or left
	ReasonMaxWait      = "max_wait"      // the queue's maximum wait passed
	ReasonOverflow     = "overflow"      // an overflow rule applied
	ReasonWaitExpired  = "wait_expired"  // the preferred agent's wait passed
	ReasonAgentAway    = "agent_away"    // the agent left ready presence
	ReasonAgentOffline = "agent_offline" // the agent logged off or was removed
	ReasonIneligible   = "ineligible"    // the agent no longer fits the item
	ReasonReassigned   = "reassigned"    // a supervisor moved the item
	ReasonCapacity     = "capacity"      // the agent's capacity was lowered
	ReasonMissedOffers = "missed_offers" // too many offers in a row timed out
	ReasonWorking      = "working"       // derived: agent holds accepted work
	ReasonIdle         = "idle"          // derived: agent holds no accepted work
	ReasonWrapUp       = "wrap_up"       // after-contact work began
	ReasonWrapUpEnd    = "wrap_up_end"   // after-contact work timed out
)

// Event is one state change. Every method that changes state returns the
// events it caused, in order; applying them to stored rows (or replaying
// them onto a snapshot) yields the engine's new state.
type Event interface {
	Kind() EventKind
	Header() EventHeader
}

// EventHeader is common to all events: a sequence number that increases by
// one per event for the life of the engine state (it is part of a snapshot),
// and the `now` of the call that caused it.
type EventHeader struct {
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
}

// Header returns the header.
func (h EventHeader) Header() EventHeader { return h }

// ItemQueued: an item entered the engine. Item is as stored: EnqueuedAt
// filled in, and the preferred agent resolved (empty when there is none).
type ItemQueued struct {
	EventHeader
	Item WorkItem `json:"item"`
}

// OfferMade: the item is reserved for the agent until ExpiresAt.
type OfferMade struct {
	EventHeader
	ItemID    string    `json:"item_id"`
	AgentID   string    `json:"agent_id"`
	QueueID   string    `json:"queue_id"`
	Channel   Channel   `json:"channel"`
	Attempt   int       `json:"attempt"` // 1 for the first offer of the item
	ExpiresAt time.Time `json:"expires_at"`
}

// OfferAccepted: the agent took the offer (an ItemAssigned follows).
type OfferAccepted struct {
	EventHeader
	ItemID  string `json:"item_id"`
	AgentID string `json:"agent_id"`
}

// OfferDeclined: the agent said no; the item is not offered to them again
// before CooldownUntil.
type OfferDeclined struct {
	EventHeader
	ItemID        string    `json:"item_id"`
	AgentID       string    `json:"agent_id"`
	CooldownUntil time.Time `json:"cooldown_until"`
}

// OfferTimedOut: the offer expired unanswered. Missed counts the agent's
// missed offers in a row, including this one.
type OfferTimedOut struct {
	EventHeader
	ItemID        string    `json:"item_id"`
	AgentID       string    `json:"agent_id"`
	ExpiresAt     time.Time `json:"expires_at"`
	Missed        int       `json:"missed"`
	CooldownUntil time.Time `json:"cooldown_until"`
}

// OfferRevoked: the engine withdrew an offer (agent left, item abandoned,
// item reassigned, capacity lowered).
type OfferRevoked struct {
	EventHeader
	ItemID  string `json:"item_id"`
	AgentID string `json:"agent_id"`
	Reason  string `json:"reason"`
}

// ItemAssigned: the agent now works on the item. FromAgentID is set when a
// supervisor moved it from another agent (Reassigned is true for any
// supervisor assignment).
type ItemAssigned struct {
	EventHeader
	ItemID      string        `json:"item_id"`
	AgentID     string        `json:"agent_id"`
	QueueID     string        `json:"queue_id"`
	Channel     Channel       `json:"channel"`
	Waited      time.Duration `json:"waited"` // since EnqueuedAt
	Reassigned  bool          `json:"reassigned,omitempty"`
	FromAgentID string        `json:"from_agent_id,omitempty"`
}

// ItemRequeued: accepted work went back to waiting because its agent left.
type ItemRequeued struct {
	EventHeader
	ItemID      string `json:"item_id"`
	FromAgentID string `json:"from_agent_id"`
	Reason      string `json:"reason"`
}

// ItemCompleted: the work is done; the item leaves the engine.
type ItemCompleted struct {
	EventHeader
	ItemID     string        `json:"item_id"`
	AgentID    string        `json:"agent_id"`
	QueueID    string        `json:"queue_id"`
	CustomerID string        `json:"customer_id,omitempty"`
	Handled    time.Duration `json:"handled"` // since assignment
}

// ItemAbandoned: the item left without being served. AgentID is set when it
// was being offered at that moment.
type ItemAbandoned struct {
	EventHeader
	ItemID  string        `json:"item_id"`
	QueueID string        `json:"queue_id"`
	AgentID string        `json:"agent_id,omitempty"`
	Reason  string        `json:"reason"` // ReasonCustomer or ReasonMaxWait
	Waited  time.Duration `json:"waited"`
}

// ItemOverflowed: an overflow rule or the maximum wait moved the item to
// another queue and/or replaced its skill requirements (Skills is then the
// new requirement set; nil means the queue's and the item's own).
type ItemOverflowed struct {
	EventHeader
	ItemID      string         `json:"item_id"`
	FromQueueID string         `json:"from_queue_id"`
	ToQueueID   string         `json:"to_queue_id"`
	Skills      map[string]int `json:"skills"`
	Reason      string         `json:"reason"` // ReasonOverflow or ReasonMaxWait
}

// PreferenceReleased: the item no longer waits for its preferred agent.
type PreferenceReleased struct {
	EventHeader
	ItemID  string `json:"item_id"`
	AgentID string `json:"agent_id"`
	Reason  string `json:"reason"`
}

// PresenceChanged: an agent's presence changed, by their own action or by
// the engine (Busy/Available by load, wrap-up, missed offers).
type PresenceChanged struct {
	EventHeader
	AgentID string    `json:"agent_id"`
	From    Presence  `json:"from"`
	To      Presence  `json:"to"`
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until"` // end of after-contact work, if any
}

// AgentRemoved: the agent left the engine (after giving back their work).
type AgentRemoved struct {
	EventHeader
	AgentID string `json:"agent_id"`
}

// QueueStateChanged: the queue opened or closed.
type QueueStateChanged struct {
	EventHeader
	QueueID string `json:"queue_id"`
	Open    bool   `json:"open"`
}

func (ItemQueued) Kind() EventKind         { return KindItemQueued }
func (OfferMade) Kind() EventKind          { return KindOfferMade }
func (OfferAccepted) Kind() EventKind      { return KindOfferAccepted }
func (OfferDeclined) Kind() EventKind      { return KindOfferDeclined }
func (OfferTimedOut) Kind() EventKind      { return KindOfferTimedOut }
func (OfferRevoked) Kind() EventKind       { return KindOfferRevoked }
func (ItemAssigned) Kind() EventKind       { return KindItemAssigned }
func (ItemRequeued) Kind() EventKind       { return KindItemRequeued }
func (ItemCompleted) Kind() EventKind      { return KindItemCompleted }
func (ItemAbandoned) Kind() EventKind      { return KindItemAbandoned }
func (ItemOverflowed) Kind() EventKind     { return KindItemOverflowed }
func (PreferenceReleased) Kind() EventKind { return KindPreferenceReleased }
func (PresenceChanged) Kind() EventKind    { return KindPresenceChanged }
func (AgentRemoved) Kind() EventKind       { return KindAgentRemoved }
func (QueueStateChanged) Kind() EventKind  { return KindQueueStateChanged }
