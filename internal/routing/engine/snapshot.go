package engine

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// State is everything the engine knows, as plain rows: what a store keeps
// (one row per queue, agent, item and remembered customer, plus the
// counters) and what Restore rebuilds an engine from. Slices are sorted
// (queues and agents by ID, items by Seq) so equal states compare equal.
type State struct {
	Now        time.Time    `json:"now"`
	EventSeq   uint64       `json:"event_seq"`
	ItemSeq    uint64       `json:"item_seq"`
	OfferSeq   uint64       `json:"offer_seq"`
	Queues     []QueueState `json:"queues"`
	Agents     []AgentState `json:"agents"`
	Items      []ItemState  `json:"items"`
	LastServed []LastServed `json:"last_served,omitempty"`
}

// QueueState is a queue with its open flag and service-level counters.
type QueueState struct {
	Queue
	Open             bool  `json:"open"`
	Answered         int64 `json:"answered"`
	AnsweredInTarget int64 `json:"answered_in_target"`
	Abandoned        int64 `json:"abandoned"`
}

// AgentState is an agent with its presence. Load is not stored: it follows
// from the items that name the agent.
type AgentState struct {
	Agent
	Presence     Presence          `json:"presence"`
	Reason       string            `json:"reason,omitempty"`
	Since        time.Time         `json:"since"`
	ACWUntil     time.Time         `json:"acw_until"`
	MissedOffers int               `json:"missed_offers"`
	IdleSince    time.Time         `json:"idle_since"`
	LastOffered  map[string]uint64 `json:"last_offered,omitempty"` // queue → offer sequence
}

// ItemState is an item in the engine. WorkItem.QueueID is the current queue
// (after overflow); WorkItem.PreferredAgentID and PreferredUntil describe a
// reservation still in force (empty once it was used or released).
type ItemState struct {
	WorkItem
	OriginQueueID  string         `json:"origin_queue_id"`
	Seq            uint64         `json:"seq"`
	Status         ItemStatus     `json:"status"`
	AgentID        string         `json:"agent_id,omitempty"`
	QueuedAt       time.Time      `json:"queued_at"` // entered the current queue
	OverflowStage  int            `json:"overflow_stage"`
	SkillsReplaced bool           `json:"skills_replaced,omitempty"`
	ReplacedSkills map[string]int `json:"replaced_skills"`
	Attempts       int            `json:"attempts"`
	OfferedAt      time.Time      `json:"offered_at"`
	ExpiresAt      time.Time      `json:"expires_at"`
	AssignedAt     time.Time      `json:"assigned_at"`
	Declined       []Decline      `json:"declined,omitempty"`
}

// Decline keeps an item from an agent until Until.
type Decline struct {
	AgentID string    `json:"agent_id"`
	Until   time.Time `json:"until"`
}

// LastServed remembers who served a customer last, for the preferred agent.
type LastServed struct {
	CustomerID string    `json:"customer_id"`
	AgentID    string    `json:"agent_id"`
	At         time.Time `json:"at"`
}

// Snapshot returns a deep copy of the state.
func (e *Engine) Snapshot() State {
	s := State{Now: e.now, EventSeq: e.eventSeq, ItemSeq: e.itemSeq, OfferSeq: e.offerSeq}
	for _, id := range slices.Sorted(maps.Keys(e.queues)) {
		s.Queues = append(s.Queues, e.queues[id].state())
	}
	for _, id := range slices.Sorted(maps.Keys(e.agents)) {
		s.Agents = append(s.Agents, e.agents[id].state())
	}
	its := make([]*itemState, 0, len(e.items))
	for _, it := range e.items {
		its = append(its, it)
	}
	slices.SortFunc(its, func(a, b *itemState) int { return cmp.Compare(a.seq, b.seq) })
	for _, it := range its {
		s.Items = append(s.Items, it.state(e.now))
	}
	for _, c := range slices.Sorted(maps.Keys(e.lastServed)) {
		v := e.lastServed[c]
		s.LastServed = append(s.LastServed, LastServed{CustomerID: c, AgentID: v.agent, At: v.at})
	}
	return s
}

// SnapshotItems is Snapshot with only the named items (those that no longer
// exist are left out) and without LastServed: what a store writes after a
// change, at a cost that grows with the staff and the queues but not with
// the work waiting, which may be large (an email backlog).
func (e *Engine) SnapshotItems(items []string) State {
	s := State{Now: e.now, EventSeq: e.eventSeq, ItemSeq: e.itemSeq, OfferSeq: e.offerSeq}
	for _, id := range slices.Sorted(maps.Keys(e.queues)) {
		s.Queues = append(s.Queues, e.queues[id].state())
	}
	for _, id := range slices.Sorted(maps.Keys(e.agents)) {
		s.Agents = append(s.Agents, e.agents[id].state())
	}
	var its []*itemState
	for _, id := range sortedUnique(items) {
		if it := e.items[id]; it != nil {
			its = append(its, it)
		}
	}
	slices.SortFunc(its, func(a, b *itemState) int { return cmp.Compare(a.seq, b.seq) })
	for _, it := range its {
		s.Items = append(s.Items, it.state(e.now))
	}
	return s
}

func sortedUnique(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return slices.Compact(ids)
}

func (q *queueState) state() QueueState {
	return QueueState{Queue: q.cfg.clone(), Open: q.open, Answered: q.answered, AnsweredInTarget: q.inTarget, Abandoned: q.abandoned}
}

func (a *agentState) state() AgentState {
	as := AgentState{Agent: a.cfg.clone(), Presence: a.presence, Reason: a.reason, Since: a.since,
		ACWUntil: a.acwUntil, MissedOffers: a.missed, IdleSince: a.idleSince}
	if len(a.lastOffered) > 0 {
		as.LastOffered = maps.Clone(a.lastOffered)
	}
	return as
}

// state is the item as a row; a decline that has run out is left out, as it
// no longer keeps the item from anyone (the engine drops it without an
// event when it next looks).
func (it *itemState) state(now time.Time) ItemState {
	is := ItemState{WorkItem: it.w.clone(), OriginQueueID: it.origin, Seq: it.seq, Status: it.status,
		QueuedAt: it.queuedAt, OverflowStage: it.stage, SkillsReplaced: it.replaced, Attempts: it.attempts,
		OfferedAt: it.offered, ExpiresAt: it.expires, AssignedAt: it.assigned}
	if it.replaced {
		is.ReplacedSkills = cloneSkills(it.override)
	}
	if it.agent != nil {
		is.AgentID = it.agent.cfg.ID
	}
	for _, aid := range slices.Sorted(maps.Keys(it.declined)) {
		if until := it.declined[aid]; until.After(now) {
			is.Declined = append(is.Declined, Decline{AgentID: aid, Until: until})
		}
	}
	return is
}

// Restore replaces the engine's state by s, as written by Snapshot or
// rebuilt from stored rows. On error the engine is left as it was. Timers are
// re-armed from the stored deadlines; anything overdue fires on the next
// call, which also re-runs matching for every ready agent.
func (e *Engine) Restore(s State) error {
	n := New(e.rawCfg)
	if err := n.restore(s); err != nil {
		return err
	}
	*e = *n
	return nil
}

func (e *Engine) restore(s State) error {
	e.now = norm(s.Now)
	e.eventSeq, e.itemSeq, e.offerSeq = s.EventSeq, s.ItemSeq, s.OfferSeq
	for i, qs := range s.Queues {
		f := "queues[" + itoa(i) + "]"
		if err := validateQueue(qs.Queue); err != nil {
			return errs.Prefix(err, f)
		}
		if e.queues[qs.ID] != nil {
			return errs.Invalidf(f+".id", "duplicate queue %q", qs.ID)
		}
		q := qs.Queue.clone()
		if q.Strategy == "" {
			q.Strategy = LongestIdle
		}
		for _, c := range q.Channels {
			e.chanIndex(c)
		}
		e.queues[q.ID] = &queueState{cfg: q, open: qs.Open, items: map[string]*itemState{},
			answered: qs.Answered, inTarget: qs.AnsweredInTarget, abandoned: qs.Abandoned}
	}
	for i, as := range s.Agents {
		f := "agents[" + itoa(i) + "]"
		if err := validateAgent(as.Agent); err != nil {
			return errs.Prefix(err, f)
		}
		if e.agents[as.ID] != nil {
			return errs.Invalidf(f+".id", "duplicate agent %q", as.ID)
		}
		switch as.Presence {
		case Available, Busy, AfterContactWork, Away, Offline:
		default:
			return errs.Invalidf(f+".presence", "unknown presence %q", as.Presence)
		}
		a := &agentState{slot: len(e.slots), presence: as.Presence, reason: as.Reason, since: norm(as.Since),
			missed: as.MissedOffers, idleSince: norm(as.IdleSince), held: map[string]*itemState{}}
		if as.Presence == AfterContactWork {
			a.acwUntil = norm(as.ACWUntil)
		}
		if len(as.LastOffered) > 0 {
			a.lastOffered = maps.Clone(as.LastOffered)
		}
		e.slots = append(e.slots, a)
		e.agents[as.ID] = a
		e.configureAgent(a, as.Agent.clone())
		if !a.acwUntil.IsZero() {
			e.pushTimer(&timer{at: a.acwUntil.UnixNano(), kind: timerACW, id: a.cfg.ID, agent: a})
		}
	}
	items := slices.Clone(s.Items)
	slices.SortFunc(items, func(a, b ItemState) int { return cmp.Compare(a.Seq, b.Seq) })
	for i, is := range items {
		f := "items[" + itoa(i) + "]"
		if is.ID == "" || e.items[is.ID] != nil {
			return errs.Invalidf(f+".id", "missing or duplicate item id %q", is.ID)
		}
		if is.Channel == "" {
			return errs.Invalidf(f+".channel", "required")
		}
		qs := e.queues[is.QueueID]
		if qs == nil {
			return errs.Invalidf(f+".queue_id", "unknown queue %q", is.QueueID)
		}
		w := is.WorkItem.clone()
		w.EnqueuedAt = norm(w.EnqueuedAt)
		w.PreferredUntil = norm(w.PreferredUntil)
		it := &itemState{w: w, origin: is.OriginQueueID, seq: is.Seq, status: is.Status, q: qs,
			ci: e.chanIndex(w.Channel), hidx: -1, queuedAt: norm(is.QueuedAt), stage: is.OverflowStage,
			replaced: is.SkillsReplaced, attempts: is.Attempts, offered: norm(is.OfferedAt),
			expires: norm(is.ExpiresAt), assigned: norm(is.AssignedAt)}
		if it.replaced {
			it.override = cloneSkills(is.ReplacedSkills)
			if it.override == nil {
				it.override = map[string]int{}
			}
		}
		if it.stage < 0 || it.stage > len(qs.cfg.Overflow) {
			return errs.Invalidf(f+".overflow_stage", "out of range")
		}
		for _, d := range is.Declined {
			if it.declined == nil {
				it.declined = map[string]time.Time{}
			}
			it.declined[d.AgentID] = norm(d.Until)
			e.pushTimer(&timer{at: norm(d.Until).UnixNano(), kind: timerCooldown, id: w.ID, aux: d.AgentID, item: it})
		}
		e.rekey(it)
		e.items[w.ID] = it
		qs.items[w.ID] = it
		switch is.Status {
		case StatusWaiting:
			if is.AgentID != "" {
				return errs.Invalidf(f+".agent_id", "a waiting item has no agent")
			}
			if p := e.agents[w.PreferredAgentID]; p != nil && w.PreferredUntil.After(e.now) {
				it.reserved = p
				e.pushTimer(&timer{at: w.PreferredUntil.UnixNano(), kind: timerPrefer, id: w.ID, item: it})
			} else {
				it.w.PreferredAgentID, it.w.PreferredUntil = "", time.Time{}
			}
			e.park(it)
			e.armWait(it)
		case StatusOffered, StatusAssigned:
			a := e.agents[is.AgentID]
			if a == nil {
				return errs.Invalidf(f+".agent_id", "unknown agent %q", is.AgentID)
			}
			it.agent = a
			if is.Status == StatusOffered {
				if a.offer != nil {
					return errs.Invalidf(f+".agent_id", "agent %q holds two offers", is.AgentID)
				}
				if is.Attempts < 1 || it.expires.IsZero() {
					return errs.Invalidf(f+".expires_at", "an offered item needs attempts and expires_at")
				}
				a.offer = it
				e.pushTimer(&timer{at: it.expires.UnixNano(), kind: timerOffer, id: w.ID, gen: uint64(it.attempts), item: it})
			} else {
				a.assigned++
			}
			e.hold(a, it)
		default:
			return errs.Invalidf(f+".status", "unknown status %q", is.Status)
		}
	}
	ls := slices.Clone(s.LastServed)
	slices.SortFunc(ls, func(a, b LastServed) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.CustomerID, b.CustomerID)
	})
	for _, l := range ls {
		e.lastServed[l.CustomerID] = served{agent: l.AgentID, at: norm(l.At)}
		e.servedLog = append(e.servedLog, servedEntry{customer: l.CustomerID, at: norm(l.At)})
	}
	for _, a := range e.slots {
		e.refreshReady(a)
	}
	e.needRebalance = true
	return nil
}
