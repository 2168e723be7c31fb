package engine

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// Engine is the routing state of one contact center. It is not safe for
// concurrent use: the caller serialises calls (one engine per node owning a
// shard, or one behind a lock).
type Engine struct {
	rawCfg  Config
	cfg     Config
	agingNs int64
	now     time.Time

	eventSeq uint64
	itemSeq  uint64
	offerSeq uint64

	queues    map[string]*queueState
	agents    map[string]*agentState
	slots     []*agentState
	freeSlots []int
	items     map[string]*itemState

	chIndex  map[Channel]int
	channels []Channel
	blockers [][]int         // blockers[ci]: channels whose held items block ci
	ready    [][]*agentState // ready[ci]: agents that may get an offer on ci now

	classes   map[string]*class
	classList []*class
	active    []*class // classes with waiting items

	timers     timerHeap
	lastServed map[string]served
	servedLog  []servedEntry
	servedHead int

	events        []Event
	frontier      []int32
	needRebalance bool
	pendItems     []*itemState
	pendAgents    []*agentState
	mark          uint64
}

// New returns an empty engine.
func New(cfg Config) *Engine {
	raw := cfg
	if raw.Blocking != nil {
		raw.Blocking = maps.Clone(raw.Blocking)
	}
	e := &Engine{
		rawCfg:     raw,
		cfg:        cfg.withDefaults(),
		queues:     map[string]*queueState{},
		agents:     map[string]*agentState{},
		items:      map[string]*itemState{},
		chIndex:    map[Channel]int{},
		classes:    map[string]*class{},
		lastServed: map[string]served{},
		mark:       1,
	}
	e.agingNs = int64(e.cfg.AgingInterval)
	keys := make([]Channel, 0, len(e.cfg.Blocking))
	for k := range e.cfg.Blocking {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.chanIndex(k)
		for _, b := range e.cfg.Blocking[k] {
			e.chanIndex(b)
		}
	}
	return e
}

// Config returns the configuration in force (defaults filled in).
func (e *Engine) Config() Config { return e.cfg }

// Now is the latest time the engine has seen.
func (e *Engine) Now() time.Time { return e.now }

// begin starts a call: time never goes backwards (a caller on a node whose
// clock lags cannot undo a timeout), then every timer due by now fires.
func (e *Engine) begin(now time.Time) {
	now = norm(now)
	if now.Before(e.now) || now.IsZero() {
		now = e.now
	}
	e.now = now
	e.events = nil
	e.pruneServed()
	e.runTimers()
	if e.needRebalance {
		e.rebalance()
	}
	e.stabilize()
}

func (e *Engine) finish() []Event {
	e.stabilize()
	ev := e.events
	e.events = nil
	return ev
}

func (e *Engine) header() EventHeader {
	e.eventSeq++
	return EventHeader{Seq: e.eventSeq, At: e.now}
}

func (e *Engine) emit(ev Event) { e.events = append(e.events, ev) }

// ---- configuration ----

func validSkills(field string, m map[string]int) error {
	for _, n := range slices.Sorted(maps.Keys(m)) {
		l := m[n]
		if n == "" || strings.ContainsRune(n, 0) {
			return errs.Invalidf(field, "skill name %q is not allowed", n)
		}
		if l < 0 {
			return errs.Invalidf(field+"."+n, "level must not be negative")
		}
	}
	return nil
}

func validateQueue(q Queue) error {
	if q.ID == "" {
		return errs.Invalidf("id", "required")
	}
	if q.Priority < MinPriority || q.Priority > MaxPriority {
		return errs.Invalidf("priority", "must be within [%d, %d]", MinPriority, MaxPriority)
	}
	switch q.Strategy {
	case "", LongestIdle, LeastBusy, RoundRobin, BestSkill:
	default:
		return errs.Invalidf("strategy", "unknown strategy %q", q.Strategy)
	}
	for i, c := range q.Channels {
		if c == "" {
			return errs.Invalidf("channels["+itoa(i)+"]", "empty channel")
		}
	}
	if err := validSkills("skills", q.Skills); err != nil {
		return err
	}
	if q.Target.Percent < 0 || q.Target.Percent > 100 || q.Target.Within < 0 {
		return errs.Invalidf("target", "percent must be within [0, 100] and within not negative")
	}
	switch q.SLAbandons {
	case "", AbandonsMissed, AbandonsMet, AbandonsExcluded:
	default:
		return errs.Invalidf("sl_abandons", "must be missed, met or excluded, not %q", q.SLAbandons)
	}
	if q.ShortAbandon < 0 {
		return errs.Invalidf("short_abandon", "must not be negative")
	}
	var last time.Duration
	for i, r := range q.Overflow {
		f := "overflow[" + itoa(i) + "]"
		if r.After <= 0 || r.After < last {
			return errs.Invalidf(f+".after", "must be positive and not less than the rule before")
		}
		last = r.After
		if r.QueueID == q.ID {
			return errs.Invalidf(f+".queue_id", "cannot overflow into itself")
		}
		if r.QueueID == "" && r.Skills == nil {
			return errs.Invalidf(f, "needs a queue_id or skills")
		}
		if err := validSkills(f+".skills", r.Skills); err != nil {
			return err
		}
	}
	if q.MaxWait < 0 {
		return errs.Invalidf("max_wait", "must not be negative")
	}
	if q.MaxWaitQueueID == q.ID && q.ID != "" && q.MaxWaitQueueID != "" {
		return errs.Invalidf("max_wait_queue_id", "cannot overflow into itself")
	}
	return nil
}

func itoa(i int) string { return strconv.Itoa(i) }

// UpsertQueue adds a queue or changes one. Waiting items of a changed queue
// are re-sorted and re-matched under the new settings.
func (e *Engine) UpsertQueue(q Queue, now time.Time) ([]Event, error) {
	if err := validateQueue(q); err != nil {
		return nil, err
	}
	e.begin(now)
	q = q.clone()
	if q.Strategy == "" {
		q.Strategy = LongestIdle
	}
	for _, c := range q.Channels {
		e.chanIndex(c)
	}
	qs := e.queues[q.ID]
	if qs == nil {
		qs = &queueState{cfg: q, items: map[string]*itemState{}}
		qs.open = e.computeOpen(qs)
		e.queues[q.ID] = qs
		return e.finish(), nil
	}
	qs.cfg = q
	its := e.queueItems(qs)
	for _, it := range its {
		if it.status == StatusWaiting {
			e.unpark(it)
		}
	}
	for _, c := range qs.classes {
		e.dropClass(c)
	}
	qs.classes = nil
	for _, it := range its {
		it.stage = min(it.stage, len(q.Overflow))
		it.qgen++
		e.rekey(it)
		if it.status == StatusWaiting {
			e.park(it)
		}
	}
	e.refreshOpen(qs)
	slices.SortFunc(its, func(a, b *itemState) int {
		if itemLess(a, b) {
			return -1
		}
		return 1
	})
	for _, it := range its {
		if !it.done && it.status == StatusWaiting && it.q == qs {
			e.settle(it)
		}
	}
	e.rebalance()
	return e.finish(), nil
}

// RemoveQueue deletes an empty queue; a queue that still holds items is a
// conflict (drain or reassign them first).
func (e *Engine) RemoveQueue(id string, now time.Time) ([]Event, error) {
	e.begin(now)
	qs := e.queues[id]
	if qs == nil {
		return e.finish(), errs.NotFoundf("queue %q", id)
	}
	if len(qs.items) > 0 {
		return e.finish(), errs.Conflictf("queue %q holds %d items", id, len(qs.items))
	}
	for _, c := range qs.classes {
		e.dropClass(c)
	}
	delete(e.queues, id)
	return e.finish(), nil
}

// Queue returns a queue's configuration.
func (e *Engine) Queue(id string) (Queue, bool) {
	qs := e.queues[id]
	if qs == nil {
		return Queue{}, false
	}
	return qs.cfg.clone(), true
}

func validateAgent(a Agent) error {
	if a.ID == "" {
		return errs.Invalidf("id", "required")
	}
	if err := validSkills("skills", a.Skills); err != nil {
		return err
	}
	for _, c := range slices.Sorted(maps.Keys(a.Capacity)) {
		n := a.Capacity[c]
		if c == "" {
			return errs.Invalidf("capacity", "empty channel")
		}
		if n < 0 {
			return errs.Invalidf("capacity."+string(c), "must not be negative")
		}
	}
	return nil
}

// UpsertAgent adds an agent (Offline until SetPresence) or changes one's
// skills, capacity and queues. Accepted work is never taken away by a change;
// an outstanding offer over the new capacity is revoked, and reservations the
// agent no longer fits are released.
func (e *Engine) UpsertAgent(ag Agent, now time.Time) ([]Event, error) {
	if err := validateAgent(ag); err != nil {
		return nil, err
	}
	e.begin(now)
	ag = ag.clone()
	a := e.agents[ag.ID]
	if a == nil {
		a = &agentState{presence: Offline, since: e.now, held: map[string]*itemState{}}
		if n := len(e.freeSlots); n > 0 {
			a.slot = e.freeSlots[n-1]
			e.freeSlots = e.freeSlots[:n-1]
			e.slots[a.slot] = a
		} else {
			a.slot = len(e.slots)
			e.slots = append(e.slots, a)
		}
		e.agents[ag.ID] = a
	}
	e.configureAgent(a, ag)
	if it := a.offer; it != nil && a.loadAt(it.ci) > a.capAt(it.ci) {
		e.revokeOffer(a, ReasonCapacity)
	}
	for _, it := range slices.Clone(a.prefs) {
		if !it.cls.eligible(a.slot) {
			e.releasePreference(it, ReasonIneligible)
		}
	}
	e.touchAgent(a)
	return e.finish(), nil
}

func (e *Engine) configureAgent(a *agentState, ag Agent) {
	a.cfg = ag
	chs := make([]Channel, 0, len(ag.Capacity))
	for c := range ag.Capacity {
		chs = append(chs, c)
	}
	slices.Sort(chs)
	for _, c := range chs {
		e.chanIndex(c)
	}
	a.capa = make([]int, len(e.channels))
	for c, n := range ag.Capacity {
		a.capa[e.chIndex[c]] = n
	}
	a.allow = nil
	if len(ag.Queues) > 0 {
		a.allow = make(map[string]bool, len(ag.Queues))
		for _, q := range ag.Queues {
			a.allow[q] = true
		}
	}
	for _, c := range e.classList {
		c.setEligible(a.slot, e.fits(a, c))
	}
	e.refreshReady(a)
}

// RemoveAgent gives the agent's work back to the queues (as going Offline
// does) and forgets the agent.
func (e *Engine) RemoveAgent(id string, now time.Time) ([]Event, error) {
	e.begin(now)
	a := e.agents[id]
	if a == nil {
		return e.finish(), errs.NotFoundf("agent %q", id)
	}
	e.goOffline(a, "removed")
	a.removed = true
	e.refreshReady(a)
	for _, c := range e.classList {
		c.setEligible(a.slot, false)
	}
	e.slots[a.slot] = nil
	e.freeSlots = append(e.freeSlots, a.slot)
	delete(e.agents, id)
	e.emit(AgentRemoved{EventHeader: e.header(), AgentID: id})
	return e.finish(), nil
}

// Agent returns an agent's configuration and presence.
func (e *Engine) Agent(id string) (Agent, Presence, bool) {
	a := e.agents[id]
	if a == nil {
		return Agent{}, "", false
	}
	return a.cfg.clone(), a.presence, true
}

// ---- presence ----

// SetPresence is the agent's own choice (or a supervisor's): Available (also
// ends after-contact work early; the engine shows Busy while the agent has
// accepted work), AfterContactWork (wrap-up, ending after
// Config.AfterContactWork if set), Away (keeps accepted work, withdraws an
// outstanding offer) or Offline (gives all work back to the queues).
func (e *Engine) SetPresence(agentID string, p Presence, reason string, now time.Time) ([]Event, error) {
	switch p {
	case Available, AfterContactWork, Away, Offline:
	case Busy:
		return nil, errs.Invalidf("presence", "busy is set by the engine from the agent's load")
	default:
		return nil, errs.Invalidf("presence", "unknown presence %q", p)
	}
	e.begin(now)
	a := e.agents[agentID]
	if a == nil {
		return e.finish(), errs.NotFoundf("agent %q", agentID)
	}
	switch p {
	case Available:
		a.missed = 0
		a.acwUntil = time.Time{}
		if !a.readyPresence() {
			e.setPresence(a, e.loadPresence(a), reason, time.Time{})
		}
	case Away:
		e.setPresence(a, Away, reason, time.Time{})
		e.revokeOffer(a, ReasonAgentAway)
	case AfterContactWork:
		var until time.Time
		if e.cfg.AfterContactWork > 0 {
			until = e.now.Add(e.cfg.AfterContactWork)
		}
		e.startACW(a, until, reason)
		e.revokeOffer(a, ReasonAgentAway)
	case Offline:
		e.goOffline(a, reason)
	}
	e.touchAgent(a)
	return e.finish(), nil
}

// ---- items ----

func (e *Engine) validateItem(w WorkItem) (*queueState, error) {
	if w.ID == "" {
		return nil, errs.Invalidf("id", "required")
	}
	if w.Channel == "" {
		return nil, errs.Invalidf("channel", "required")
	}
	if w.Priority < MinPriority || w.Priority > MaxPriority {
		return nil, errs.Invalidf("priority", "must be within [%d, %d]", MinPriority, MaxPriority)
	}
	if err := validSkills("skills", w.Skills); err != nil {
		return nil, err
	}
	qs := e.queues[w.QueueID]
	if qs == nil {
		return nil, errs.Invalidf("queue_id", "unknown queue %q", w.QueueID)
	}
	if len(qs.cfg.Channels) > 0 && !slices.Contains(qs.cfg.Channels, w.Channel) {
		return nil, errs.Invalidf("channel", "queue %q does not take %q", w.QueueID, w.Channel)
	}
	if _, dup := e.items[w.ID]; dup {
		return nil, errs.Conflictf("item %q already queued", w.ID)
	}
	return qs, nil
}

// Enqueue adds a waiting item and offers it at once if an agent fits.
func (e *Engine) Enqueue(w WorkItem, now time.Time) ([]Event, error) {
	e.begin(now)
	qs, err := e.validateItem(w)
	if err != nil {
		return e.finish(), err
	}
	e.refreshOpen(qs)
	if !qs.open && qs.cfg.RejectWhenClosed {
		return e.finish(), errs.Conflictf("queue %q is closed", qs.cfg.ID)
	}
	w = w.clone()
	w.EnqueuedAt = norm(w.EnqueuedAt)
	if !w.EnqueuedAt.IsZero() && w.EnqueuedAt.Before(e.now.AddDate(-1, 0, 0)) {
		return e.finish(), errs.Invalidf("enqueued_at", "more than a year ago")
	}
	if w.EnqueuedAt.IsZero() || w.EnqueuedAt.After(e.now) {
		w.EnqueuedAt = e.now
	}
	e.itemSeq++
	it := &itemState{w: w, origin: w.QueueID, seq: e.itemSeq, status: StatusWaiting, q: qs,
		ci: e.chanIndex(w.Channel), hidx: -1, queuedAt: e.now}
	e.rekey(it)

	// The preferred agent: given, or whoever served this customer last. It
	// counts only if it is logged in and fits the item.
	pref := w.PreferredAgentID
	if pref == "" && w.CustomerID != "" && e.cfg.PreferredWindow > 0 {
		if s, ok := e.lastServed[w.CustomerID]; ok && e.now.Before(s.at.Add(e.cfg.PreferredWindow)) {
			pref = s.agent
		}
	}
	var p *agentState
	if a := e.agents[pref]; a != nil && a.presence != Offline && it.cls.eligible(a.slot) {
		p = a
	}
	it.w.PreferredAgentID, it.w.PreferredUntil = "", time.Time{}
	if p != nil {
		until := norm(w.PreferredUntil)
		if until.IsZero() {
			until = e.now.Add(e.preferredWait(qs))
		}
		it.w.PreferredAgentID, it.w.PreferredUntil = p.cfg.ID, until
	}
	e.items[w.ID] = it
	qs.items[w.ID] = it
	e.emit(ItemQueued{EventHeader: e.header(), Item: it.w.clone()})
	switch {
	case p != nil && qs.open && p.isReady(it.ci):
		// First chance, and the preferred agent can take it now.
		e.park(it)
		e.offer(it, p)
	case p != nil && it.w.PreferredUntil.After(e.now):
		// Reserved for the preferred agent until the wait ends.
		it.reserved = p
		e.park(it)
		e.pushTimer(&timer{at: it.w.PreferredUntil.UnixNano(), kind: timerPrefer, id: it.w.ID, item: it})
		e.settle(it)
	default:
		it.w.PreferredAgentID, it.w.PreferredUntil = "", time.Time{}
		e.park(it)
		e.settle(it)
	}
	if e.needRebalance {
		e.rebalance()
	}
	return e.finish(), nil
}

func (e *Engine) preferredWait(qs *queueState) time.Duration {
	switch w := qs.cfg.PreferredWait; {
	case w > 0:
		return w
	case w < 0:
		return 0
	}
	return e.cfg.PreferredWait
}

func (e *Engine) lookup(itemID, agentID string) (*itemState, *agentState, error) {
	it := e.items[itemID]
	if it == nil {
		return nil, nil, errs.NotFoundf("item %q", itemID)
	}
	a := e.agents[agentID]
	if a == nil {
		return nil, nil, errs.NotFoundf("agent %q", agentID)
	}
	return it, a, nil
}

// Accept takes an outstanding offer. An offer accepted at or after its
// ExpiresAt has already timed out: the call fails with a conflict (and
// returns the timeout's events).
func (e *Engine) Accept(itemID, agentID string, now time.Time) ([]Event, error) {
	e.begin(now)
	it, a, err := e.lookup(itemID, agentID)
	if err != nil {
		return e.finish(), err
	}
	if it.status != StatusOffered || it.agent != a {
		return e.finish(), errs.Conflictf("no outstanding offer of item %q to agent %q", itemID, agentID)
	}
	a.offer = nil
	a.missed = 0
	it.status = StatusAssigned
	a.assigned++
	e.emit(OfferAccepted{EventHeader: e.header(), ItemID: itemID, AgentID: agentID})
	e.answer(it)
	e.emit(ItemAssigned{EventHeader: e.header(), ItemID: itemID, AgentID: agentID, QueueID: it.q.cfg.ID,
		Channel: it.w.Channel, Waited: e.now.Sub(it.w.EnqueuedAt)})
	e.derivePresence(a)
	e.refreshReady(a)
	e.touchAgent(a)
	return e.finish(), nil
}

// answer records the first assignment of an item for the service level.
func (e *Engine) answer(it *itemState) {
	it.assigned = e.now
	q := it.q
	q.answered++
	if q.cfg.Target.Within > 0 && e.now.Sub(it.w.EnqueuedAt) <= q.cfg.Target.Within {
		q.inTarget++
	}
}

// Decline refuses an outstanding offer; the item goes to the next agent and
// is kept from this one for Config.DeclineCooldown.
func (e *Engine) Decline(itemID, agentID string, now time.Time) ([]Event, error) {
	e.begin(now)
	it, a, err := e.lookup(itemID, agentID)
	if err != nil {
		return e.finish(), err
	}
	if it.status != StatusOffered || it.agent != a {
		return e.finish(), errs.Conflictf("no outstanding offer of item %q to agent %q", itemID, agentID)
	}
	a.missed = 0
	until := e.cooldown(it, a)
	e.emit(OfferDeclined{EventHeader: e.header(), ItemID: itemID, AgentID: agentID, CooldownUntil: until})
	e.dropOffer(it)
	e.park(it)
	e.settle(it)
	e.touchAgent(a)
	return e.finish(), nil
}

// Complete ends accepted work. The agent goes into after-contact work when
// the queue (or the config) asks for it, and the customer remembers this
// agent as preferred for Config.PreferredWindow.
func (e *Engine) Complete(itemID, agentID string, now time.Time) ([]Event, error) {
	e.begin(now)
	it, a, err := e.lookup(itemID, agentID)
	if err != nil {
		return e.finish(), err
	}
	if it.status != StatusAssigned || it.agent != a {
		return e.finish(), errs.Conflictf("item %q is not assigned to agent %q", itemID, agentID)
	}
	qs := it.q
	e.removeItem(it)
	a.idleSince = e.now
	e.emit(ItemCompleted{EventHeader: e.header(), ItemID: itemID, AgentID: agentID, QueueID: qs.cfg.ID,
		CustomerID: it.w.CustomerID, Handled: e.now.Sub(it.assigned)})
	if c := it.w.CustomerID; c != "" && e.cfg.PreferredWindow > 0 {
		e.lastServed[c] = served{agent: agentID, at: e.now}
		e.servedLog = append(e.servedLog, servedEntry{customer: c, at: e.now})
	}
	acw := qs.cfg.AfterContactWork
	if acw == 0 {
		acw = e.cfg.AfterContactWork
	}
	if acw > 0 && (a.readyPresence() || a.presence == AfterContactWork) {
		until := e.now.Add(acw)
		if a.presence == AfterContactWork && (a.acwUntil.IsZero() || a.acwUntil.After(until)) {
			until = a.acwUntil
		}
		e.startACW(a, until, ReasonWrapUp)
	} else {
		e.derivePresence(a)
	}
	e.touchAgent(a)
	return e.finish(), nil
}

// Abandon removes an item whose customer left, whether it waits or is being
// offered. Accepted work is ended with Complete instead (a conflict here).
func (e *Engine) Abandon(itemID string, now time.Time) ([]Event, error) {
	e.begin(now)
	it := e.items[itemID]
	if it == nil {
		return e.finish(), errs.NotFoundf("item %q", itemID)
	}
	if it.status == StatusAssigned {
		return e.finish(), errs.Conflictf("item %q is being served; complete it instead", itemID)
	}
	var a *agentState
	if it.status == StatusOffered {
		a = it.agent
		e.emit(OfferRevoked{EventHeader: e.header(), ItemID: itemID, AgentID: a.cfg.ID, Reason: ReasonCustomer})
	}
	e.abandon(it, ReasonCustomer)
	if a != nil {
		e.touchAgent(a)
	}
	return e.finish(), nil
}

func (e *Engine) abandon(it *itemState, reason string) {
	var aid string
	if it.agent != nil {
		aid = it.agent.cfg.ID
	}
	qs := it.q
	e.removeItem(it)
	qs.abandoned++
	e.emit(ItemAbandoned{EventHeader: e.header(), ItemID: it.w.ID, QueueID: qs.cfg.ID, AgentID: aid,
		Reason: reason, Waited: e.now.Sub(it.w.EnqueuedAt)})
}

// Reassign is a supervisor's move: the item (waiting, offered or accepted)
// is assigned to toAgentID directly, without an offer. Skills are not
// checked (the supervisor decides) but capacity and blocking are, and the
// agent must not be Offline.
func (e *Engine) Reassign(itemID, toAgentID string, now time.Time) ([]Event, error) {
	e.begin(now)
	it, to, err := e.lookup(itemID, toAgentID)
	if err != nil {
		return e.finish(), err
	}
	if to.presence == Offline {
		return e.finish(), errs.Conflictf("agent %q is offline", toAgentID)
	}
	if it.status == StatusAssigned && it.agent == to {
		return e.finish(), errs.Conflictf("item %q is already assigned to agent %q", itemID, toAgentID)
	}
	ci := it.ci
	own := func(c int) int {
		if it.agent == to && it.ci == c {
			return 1
		}
		return 0
	}
	if to.loadAt(ci)-own(ci) >= to.capAt(ci) {
		return e.finish(), errs.Conflictf("agent %q has no %s capacity left", toAgentID, it.w.Channel)
	}
	for _, b := range e.blockers[ci] {
		if to.loadAt(b)-own(b) > 0 {
			return e.finish(), errs.Conflictf("agent %q holds %s work, which blocks %s", toAgentID, e.channels[b], it.w.Channel)
		}
	}
	from := it.agent
	var fromID string
	switch it.status {
	case StatusWaiting:
		e.unpark(it)
		e.clearReservation(it)
	case StatusOffered:
		fromID = from.cfg.ID
		if from != to {
			e.emit(OfferRevoked{EventHeader: e.header(), ItemID: itemID, AgentID: fromID, Reason: ReasonReassigned})
		}
		from.offer = nil
		e.unhold(from, it)
	case StatusAssigned:
		fromID = from.cfg.ID
		from.assigned--
		from.idleSince = e.now
		e.unhold(from, it)
	}
	if it.status != StatusAssigned {
		e.answer(it)
	}
	it.status = StatusAssigned
	it.agent = to
	to.assigned++
	e.hold(to, it)
	e.emit(ItemAssigned{EventHeader: e.header(), ItemID: itemID, AgentID: toAgentID, QueueID: it.q.cfg.ID,
		Channel: it.w.Channel, Waited: e.now.Sub(it.w.EnqueuedAt), Reassigned: true, FromAgentID: fromID})
	if from != nil && from != to {
		e.derivePresence(from)
	}
	e.derivePresence(to)
	if from != nil && from != to {
		e.touchAgent(from)
	}
	e.touchAgent(to)
	return e.finish(), nil
}

// Tick fires what is due by now (offer timeouts, end of after-contact work,
// cooldowns, preferred waits, overflow, maximum wait), re-reads each queue's
// business hours and matches whatever that freed. Call it about once a
// second; the result does not depend on how often (each timer acts at the
// first call at or after its due time).
func (e *Engine) Tick(now time.Time) []Event {
	e.begin(now)
	ids := make([]string, 0, len(e.queues))
	for id := range e.queues {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		e.refreshOpen(e.queues[id])
	}
	if e.needRebalance {
		e.rebalance()
	}
	return e.finish()
}

// Rebalance offers waiting work to every ready agent that fits it. The
// engine keeps that true after every call, so this is only needed after a
// Restore from rows that were not written by an engine (Restore schedules it
// for the next call anyway).
func (e *Engine) Rebalance(now time.Time) []Event {
	e.begin(now)
	e.rebalance()
	return e.finish()
}

func (e *Engine) computeOpen(qs *queueState) bool {
	if qs.cfg.Closed {
		return false
	}
	if qs.cfg.IsOpen != nil {
		return qs.cfg.IsOpen(e.now)
	}
	return true
}

func (e *Engine) refreshOpen(qs *queueState) {
	open := e.computeOpen(qs)
	if open == qs.open {
		return
	}
	qs.open = open
	e.emit(QueueStateChanged{EventHeader: e.header(), QueueID: qs.cfg.ID, Open: open})
	if open {
		e.needRebalance = true
	}
}

func (e *Engine) pruneServed() {
	w := e.cfg.PreferredWindow
	for e.servedHead < len(e.servedLog) {
		s := e.servedLog[e.servedHead]
		if e.now.Before(s.at.Add(w)) {
			break
		}
		if cur, ok := e.lastServed[s.customer]; ok && !cur.at.After(s.at) {
			delete(e.lastServed, s.customer)
		}
		e.servedHead++
	}
	if e.servedHead > 1024 && e.servedHead*2 > len(e.servedLog) {
		e.servedLog = slices.Clone(e.servedLog[e.servedHead:])
		e.servedHead = 0
	}
}

func (e *Engine) queueItems(qs *queueState) []*itemState {
	its := make([]*itemState, 0, len(qs.items))
	for _, it := range qs.items {
		its = append(its, it)
	}
	slices.SortFunc(its, func(a, b *itemState) int { return cmp.Compare(a.seq, b.seq) })
	return its
}
