package engine

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// maxIdleClasses bounds how many classes without items are kept for reuse;
// beyond it an emptied class is dropped (items with unusual skill sets would
// otherwise grow the class list that agent-side decisions walk).
const maxIdleClasses = 256

// chanIndex interns a channel: per-agent loads, capacities and ready sets
// are slices indexed by it.
func (e *Engine) chanIndex(ch Channel) int {
	if i, ok := e.chIndex[ch]; ok {
		return i
	}
	i := len(e.channels)
	e.channels = append(e.channels, ch)
	e.chIndex[ch] = i
	e.ready = append(e.ready, nil)
	e.blockers = make([][]int, len(e.channels))
	keys := slices.Sorted(maps.Keys(e.cfg.Blocking))
	for _, k := range keys {
		ki, ok := e.chIndex[k]
		if !ok {
			continue
		}
		for _, b := range e.cfg.Blocking[k] {
			if bi, ok := e.chIndex[b]; ok && bi != ki && !slices.Contains(e.blockers[bi], ki) {
				e.blockers[bi] = append(e.blockers[bi], ki)
			}
		}
	}
	return i
}

// rekey computes an unparked item's sort key and class.
//
// Effective priority at time T is base + (T − enqueued)/aging. Item a comes
// before b when its effective priority is higher, which rearranges to
// enqueued_a − base_a·aging < enqueued_b − base_b·aging: the same at every T.
// So the key k = enqueued − base·aging never changes while an item waits and
// plain heaps stay ordered; ties (equal effective priority) go to the earlier
// arrival, then to the lower arrival sequence.
func (e *Engine) rekey(it *itemState) {
	base := int64(it.q.cfg.Priority + it.w.Priority)
	it.t = it.w.EnqueuedAt.UnixNano()
	if e.agingNs > 0 {
		it.k = it.t - base*e.agingNs
	} else {
		it.k = -base
	}
	var reqs []skillReq
	if it.replaced {
		reqs = reqsOf(it.override, nil)
	} else {
		reqs = reqsOf(it.q.cfg.Skills, it.w.Skills)
	}
	key := classKey(it.q.cfg.ID, it.w.Channel, reqs)
	if it.cls != nil && it.cls.key == key && !it.cls.dead {
		return
	}
	c := e.classes[key]
	if c == nil {
		c = &class{key: key, q: it.q, ci: it.ci, req: reqs, activePos: -1}
		for _, a := range e.slots {
			if a != nil && e.fits(a, c) {
				c.setEligible(a.slot, true)
			}
		}
		e.classes[key] = c
		c.listPos = len(e.classList)
		e.classList = append(e.classList, c)
		it.q.classes = append(it.q.classes, c)
	}
	if old := it.cls; old != nil {
		old.refs--
		e.maybeDropClass(old)
	}
	it.cls = c
	c.refs++
}

// fits is structural eligibility: capacity on the channel at all, the queue
// allowed, every required skill at the required level or above.
func (e *Engine) fits(a *agentState, c *class) bool {
	if a.removed || a.capAt(c.ci) <= 0 {
		return false
	}
	if a.allow != nil && !a.allow[c.q.cfg.ID] {
		return false
	}
	for _, r := range c.req {
		l, ok := a.cfg.Skills[r.name]
		if !ok || l < r.level {
			return false
		}
	}
	return true
}

func (e *Engine) maybeDropClass(c *class) {
	if c.dead || c.refs > 0 || len(e.classList) <= maxIdleClasses {
		return
	}
	e.dropClass(c)
	c.q.classes = slices.DeleteFunc(c.q.classes, func(x *class) bool { return x == c })
}

func (e *Engine) dropClass(c *class) {
	if c.dead {
		return
	}
	c.dead = true
	delete(e.classes, c.key)
	last := e.classList[len(e.classList)-1]
	e.classList[c.listPos] = last
	last.listPos = c.listPos
	e.classList = e.classList[:len(e.classList)-1]
	if c.activePos >= 0 {
		e.deactivate(c)
	}
}

func (e *Engine) deactivate(c *class) {
	last := e.active[len(e.active)-1]
	e.active[c.activePos] = last
	last.activePos = c.activePos
	e.active = e.active[:len(e.active)-1]
	c.activePos = -1
}

// park puts a waiting item where decisions find it: its class heap, or the
// reservation list of its preferred agent.
func (e *Engine) park(it *itemState) {
	if it.cls.dead {
		e.rekey(it)
	}
	if p := it.reserved; p != nil {
		p.prefs = append(p.prefs, it)
		return
	}
	c := it.cls
	c.heap.push(it)
	if len(c.heap) == 1 {
		c.activePos = len(e.active)
		e.active = append(e.active, c)
	}
}

func (e *Engine) unpark(it *itemState) {
	if it.hidx >= 0 {
		c := it.cls
		c.heap.remove(it.hidx)
		if len(c.heap) == 0 && c.activePos >= 0 {
			e.deactivate(c)
		}
		return
	}
	if p := it.reserved; p != nil {
		if i := slices.Index(p.prefs, it); i >= 0 {
			p.prefs = slices.Delete(p.prefs, i, i+1)
		}
	}
}

func (e *Engine) clearReservation(it *itemState) {
	it.reserved = nil
	it.w.PreferredAgentID, it.w.PreferredUntil = "", time.Time{}
}

// ---- readiness ----

// computeReady: ready presence, no outstanding offer, room on the channel,
// and nothing held on a channel that blocks this one.
func (e *Engine) computeReady(a *agentState, ci int) bool {
	if !a.readyPresence() || a.offer != nil || a.loadAt(ci) >= a.capAt(ci) {
		return false
	}
	for _, b := range e.blockers[ci] {
		if a.loadAt(b) > 0 {
			return false
		}
	}
	return true
}

// refreshReady brings the agent's membership of the per-channel ready sets
// up to date; every change to presence, offer, load or capacity calls it.
func (e *Engine) refreshReady(a *agentState) {
	for ci := range e.channels {
		want := e.computeReady(a, ci)
		if want == a.isReady(ci) {
			continue
		}
		if want {
			for len(a.readyPos) <= ci {
				a.readyPos = append(a.readyPos, -1)
			}
			a.readyPos[ci] = len(e.ready[ci])
			e.ready[ci] = append(e.ready[ci], a)
			continue
		}
		set := e.ready[ci]
		pos := a.readyPos[ci]
		last := set[len(set)-1]
		set[pos] = last
		last.readyPos[ci] = pos
		set[len(set)-1] = nil
		e.ready[ci] = set[:len(set)-1]
		a.readyPos[ci] = -1
	}
}

func (e *Engine) hold(a *agentState, it *itemState) {
	for len(a.load) <= it.ci {
		a.load = append(a.load, 0)
	}
	a.load[it.ci]++
	a.total++
	a.held[it.w.ID] = it
	e.refreshReady(a)
}

func (e *Engine) unhold(a *agentState, it *itemState) {
	a.load[it.ci]--
	a.total--
	delete(a.held, it.w.ID)
	e.refreshReady(a)
}

func (e *Engine) loadPresence(a *agentState) Presence {
	if a.assigned > 0 {
		return Busy
	}
	return Available
}

func (e *Engine) derivePresence(a *agentState) {
	if !a.readyPresence() {
		return
	}
	p := e.loadPresence(a)
	if p == a.presence {
		return
	}
	reason := ReasonIdle
	if p == Busy {
		reason = ReasonWorking
	}
	e.setPresence(a, p, reason, time.Time{})
}

func (e *Engine) setPresence(a *agentState, to Presence, reason string, until time.Time) {
	if to != AfterContactWork {
		until = time.Time{}
	}
	from := a.presence
	if from == to && a.reason == reason && a.acwUntil.Equal(until) {
		return
	}
	wasReady := a.readyPresence()
	a.presence, a.reason, a.acwUntil = to, reason, until
	if from != to {
		a.since = e.now
	}
	if !wasReady && a.readyPresence() {
		a.idleSince = e.now
	}
	e.emit(PresenceChanged{EventHeader: e.header(), AgentID: a.cfg.ID, From: from, To: to, Reason: reason, Until: until})
	e.refreshReady(a)
}

func (e *Engine) startACW(a *agentState, until time.Time, reason string) {
	e.setPresence(a, AfterContactWork, reason, until)
	if !until.IsZero() {
		e.pushTimer(&timer{at: until.UnixNano(), kind: timerACW, id: a.cfg.ID, agent: a})
	}
}

// goOffline withdraws the agent's offer, gives accepted work back to the
// queues (it keeps its place: aging and order count from EnqueuedAt) and
// releases items reserved for the agent.
func (e *Engine) goOffline(a *agentState, reason string) {
	e.setPresence(a, Offline, reason, time.Time{})
	e.revokeOffer(a, ReasonAgentOffline)
	held := slices.SortedFunc(maps.Values(a.held), func(x, y *itemState) int { return cmp.Compare(x.seq, y.seq) })
	for _, it := range held {
		a.assigned--
		e.unhold(a, it)
		it.status = StatusWaiting
		it.agent = nil
		it.queuedAt = e.now
		it.qgen++
		e.emit(ItemRequeued{EventHeader: e.header(), ItemID: it.w.ID, FromAgentID: a.cfg.ID, Reason: ReasonAgentOffline})
		e.park(it)
		e.settle(it)
	}
	prefs := slices.SortedFunc(slices.Values(a.prefs), func(x, y *itemState) int { return cmp.Compare(x.seq, y.seq) })
	for _, it := range prefs {
		e.releasePreference(it, ReasonAgentOffline)
	}
}

// ---- offers ----

func (e *Engine) offer(it *itemState, a *agentState) {
	e.unpark(it)
	e.clearReservation(it)
	it.status = StatusOffered
	it.agent = a
	it.attempts++
	it.offered = e.now
	it.expires = e.now.Add(e.cfg.OfferTimeout)
	a.offer = it
	e.hold(a, it)
	e.offerSeq++
	if a.lastOffered == nil {
		a.lastOffered = map[string]uint64{}
	}
	a.lastOffered[it.q.cfg.ID] = e.offerSeq
	e.pushTimer(&timer{at: it.expires.UnixNano(), kind: timerOffer, id: it.w.ID, gen: uint64(it.attempts), item: it})
	e.emit(OfferMade{EventHeader: e.header(), ItemID: it.w.ID, AgentID: a.cfg.ID, QueueID: it.q.cfg.ID,
		Channel: it.w.Channel, Attempt: it.attempts, ExpiresAt: it.expires})
}

// dropOffer takes an outstanding offer back from its agent; the item is left
// waiting but not parked.
func (e *Engine) dropOffer(it *itemState) *agentState {
	a := it.agent
	a.offer = nil
	it.status = StatusWaiting
	it.agent = nil
	e.unhold(a, it)
	return a
}

func (e *Engine) revokeOffer(a *agentState, reason string) {
	it := a.offer
	if it == nil {
		return
	}
	e.emit(OfferRevoked{EventHeader: e.header(), ItemID: it.w.ID, AgentID: a.cfg.ID, Reason: reason})
	e.dropOffer(it)
	e.park(it)
	e.settle(it)
}

func (e *Engine) cooldown(it *itemState, a *agentState) time.Time {
	if e.cfg.DeclineCooldown <= 0 {
		return time.Time{}
	}
	until := e.now.Add(e.cfg.DeclineCooldown)
	if it.declined == nil {
		it.declined = map[string]time.Time{}
	}
	it.declined[a.cfg.ID] = until
	e.pushTimer(&timer{at: until.UnixNano(), kind: timerCooldown, id: it.w.ID, aux: a.cfg.ID, item: it})
	return until
}

func (e *Engine) excluded(it *itemState, a *agentState) bool {
	if it.declined == nil {
		return false
	}
	until, ok := it.declined[a.cfg.ID]
	return ok && until.After(e.now)
}

func (e *Engine) releasePreference(it *itemState, reason string) {
	p := it.reserved
	if p == nil {
		return
	}
	e.unpark(it)
	e.clearReservation(it)
	e.emit(PreferenceReleased{EventHeader: e.header(), ItemID: it.w.ID, AgentID: p.cfg.ID, Reason: reason})
	e.park(it)
	e.settle(it)
}

func (e *Engine) removeItem(it *itemState) {
	if it.status == StatusWaiting {
		e.unpark(it)
		e.clearReservation(it)
	}
	if a := it.agent; a != nil {
		if a.offer == it {
			a.offer = nil
		}
		if it.status == StatusAssigned {
			a.assigned--
		}
		it.agent = nil
		e.unhold(a, it)
	}
	delete(e.items, it.w.ID)
	delete(it.q.items, it.w.ID)
	it.done = true
	if c := it.cls; c != nil {
		c.refs--
		e.maybeDropClass(c)
	}
}

// ---- waiting: overflow and maximum wait ----

// settle is called whenever an item is (again) waiting and parked: it applies
// overflow rules and the maximum wait that are due, arms the timer for the
// next one, and offers the item if an agent is ready for it.
func (e *Engine) settle(it *itemState) {
	for !it.done && it.status == StatusWaiting {
		q := it.q
		if q.cfg.MaxWait > 0 && !e.now.Before(it.queuedAt.Add(q.cfg.MaxWait)) {
			if tq := e.queues[q.cfg.MaxWaitQueueID]; tq != nil && tq != q {
				e.overflow(it, tq, nil, false, ReasonMaxWait)
				continue
			}
			e.abandon(it, ReasonMaxWait)
			return
		}
		if it.stage < len(q.cfg.Overflow) {
			r := q.cfg.Overflow[it.stage]
			if !e.now.Before(it.queuedAt.Add(r.After)) {
				tq := q
				if r.QueueID != "" {
					if tq = e.queues[r.QueueID]; tq == nil || tq == q {
						it.stage++ // unknown target: skip the rule
						continue
					}
				}
				e.overflow(it, tq, r.Skills, r.Skills != nil, ReasonOverflow)
				continue
			}
		}
		break
	}
	if it.done || it.status != StatusWaiting {
		return
	}
	e.armWait(it)
	e.touchItem(it)
}

func (e *Engine) overflow(it *itemState, tq *queueState, skills map[string]int, replace bool, reason string) {
	from := it.q
	e.unpark(it)
	if p := it.reserved; p != nil {
		e.clearReservation(it)
		e.emit(PreferenceReleased{EventHeader: e.header(), ItemID: it.w.ID, AgentID: p.cfg.ID, Reason: ReasonOverflow})
	}
	if tq != from {
		delete(from.items, it.w.ID)
		tq.items[it.w.ID] = it
		it.q = tq
		it.w.QueueID = tq.cfg.ID
		it.queuedAt = e.now
		it.stage = 0
		it.override, it.replaced = nil, false
	} else {
		it.stage++
	}
	if replace {
		it.override, it.replaced = cloneSkills(skills), true
		if it.override == nil {
			it.override = map[string]int{}
		}
	}
	it.qgen++
	e.rekey(it)
	e.park(it)
	ev := ItemOverflowed{EventHeader: e.header(), ItemID: it.w.ID, FromQueueID: from.cfg.ID, ToQueueID: tq.cfg.ID, Reason: reason}
	if it.replaced {
		ev.Skills = cloneSkills(it.override)
	}
	e.emit(ev)
}

func (e *Engine) armWait(it *itemState) {
	var due time.Time
	q := it.q
	if q.cfg.MaxWait > 0 {
		due = it.queuedAt.Add(q.cfg.MaxWait)
	}
	if it.stage < len(q.cfg.Overflow) {
		if d := it.queuedAt.Add(q.cfg.Overflow[it.stage].After); due.IsZero() || d.Before(due) {
			due = d
		}
	}
	if due.IsZero() || (it.armedAt.Equal(due) && it.armedGen == it.qgen) {
		return
	}
	it.armedAt, it.armedGen = due, it.qgen
	e.pushTimer(&timer{at: due.UnixNano(), kind: timerWait, id: it.w.ID, gen: it.qgen, item: it})
}

// ---- decisions ----

// matchItem offers a waiting item to the best ready agent for it, if any,
// leaving out agents touched in this round (they decide for themselves next).
// Only ready agents on the item's channel are looked at, never all agents.
func (e *Engine) matchItem(it *itemState) {
	if it.done || it.status != StatusWaiting || !it.q.open {
		return
	}
	c := it.cls
	if p := it.reserved; p != nil {
		if p.pend != e.mark && p.isReady(it.ci) && c.eligible(p.slot) && !e.excluded(it, p) {
			e.offer(it, p)
		}
		return
	}
	strategy := it.q.cfg.Strategy
	var best *agentState
	var bestKey agentKey
	for _, a := range e.ready[it.ci] {
		if a.pend == e.mark || !c.eligible(a.slot) || e.excluded(it, a) {
			continue
		}
		k := e.agentKey(strategy, a, c)
		if best == nil || k.less(bestKey) {
			best, bestKey = a, k
		}
	}
	if best != nil {
		e.offer(it, best)
	}
}

// matchAgent offers the best waiting item the agent fits, if any: the head
// of each class with waiting items (skipping items the agent recently
// declined) and the items reserved for the agent.
func (e *Engine) matchAgent(a *agentState) {
	if !a.readyPresence() || a.offer != nil {
		return
	}
	var best *itemState
	for _, it := range a.prefs {
		if it.q.open && a.isReady(it.ci) && it.cls.eligible(a.slot) && !e.excluded(it, a) &&
			(best == nil || itemLess(it, best)) {
			best = it
		}
	}
	for _, c := range e.active {
		if !c.q.open || !c.eligible(a.slot) || !a.isReady(c.ci) {
			continue
		}
		if best != nil && !itemLess(c.heap[0], best) {
			continue // nothing in this class can beat best
		}
		it := e.firstFor(c, a)
		if it != nil && (best == nil || itemLess(it, best)) {
			best = it
		}
	}
	if best != nil {
		e.offer(best, a)
	}
}

func (e *Engine) firstFor(c *class, a *agentState) *itemState {
	h := c.heap
	if h[0].declined == nil {
		return h[0]
	}
	return h.firstWhere(func(it *itemState) bool { return !e.excluded(it, a) }, &e.frontier)
}

// rebalance marks every ready agent for an agent-side decision, so that
// after the next stabilize no ready agent fits a waiting item whatever
// changed (a queue opened, a queue was reconfigured, a restore).
func (e *Engine) rebalance() {
	e.needRebalance = false
	for _, a := range e.slots {
		if a != nil && a.readyPresence() && a.offer == nil {
			e.touchAgent(a)
		}
	}
}

// touchItem notes that an item became waiting or more widely eligible.
func (e *Engine) touchItem(it *itemState) {
	if it.pend != e.mark {
		it.pend = e.mark
		e.pendItems = append(e.pendItems, it)
	}
}

// touchAgent notes that an agent may have become ready for more work.
func (e *Engine) touchAgent(a *agentState) {
	if a.pend != e.mark {
		a.pend = e.mark
		e.pendAgents = append(e.pendAgents, a)
	}
}

// stabilize makes the decisions that the touched items and agents call for,
// and re-establishes the engine's standing invariant: no ready agent fits a
// waiting item. Before a change the invariant held, so only pairs with a
// touched item or a touched agent can be new. Touched items go first, best
// first, each to the best untouched ready agent by the queue's strategy
// (an untouched agent fits no better item: every better untouched item was
// already unfit for it, and every better touched item went before). Then
// each touched agent, longest idle first, takes the best item it fits
// anywhere. Offers make no new pairs, so one pass suffices.
func (e *Engine) stabilize() {
	if len(e.pendItems) == 0 && len(e.pendAgents) == 0 {
		return
	}
	items, agents := e.pendItems, e.pendAgents
	slices.SortFunc(items, func(x, y *itemState) int {
		if itemLess(x, y) {
			return -1
		}
		if itemLess(y, x) {
			return 1
		}
		return 0
	})
	for _, it := range items {
		e.matchItem(it)
	}
	slices.SortFunc(agents, func(x, y *agentState) int {
		if c := x.idleSince.Compare(y.idleSince); c != 0 {
			return c
		}
		return strings.Compare(x.cfg.ID, y.cfg.ID)
	})
	for _, a := range agents {
		e.matchAgent(a)
	}
	clear(items)
	clear(agents)
	e.pendItems, e.pendAgents = items[:0], agents[:0]
	e.mark++
}

// agentKey orders candidate agents for a strategy: smaller is better, and the
// agent ID breaks every tie so that a decision never depends on set order.
type agentKey struct {
	a, b, c int64
	id      string
}

func (k agentKey) less(o agentKey) bool {
	if k.a != o.a {
		return k.a < o.a
	}
	if k.b != o.b {
		return k.b < o.b
	}
	if k.c != o.c {
		return k.c < o.c
	}
	return k.id < o.id
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func (e *Engine) agentKey(s Strategy, a *agentState, c *class) agentKey {
	var busy int64
	if a.total > 0 {
		busy = 1
	}
	idle := nanos(a.idleSince)
	switch s {
	case LeastBusy:
		occ := int64(a.loadAt(c.ci)) * 1_000_000 / int64(max(a.capAt(c.ci), 1))
		return agentKey{occ, int64(a.total), idle, a.cfg.ID}
	case RoundRobin:
		return agentKey{int64(a.lastOffered[c.q.cfg.ID]), 0, 0, a.cfg.ID}
	case BestSkill:
		var score int64
		for _, r := range c.req {
			score += int64(a.cfg.Skills[r.name])
		}
		return agentKey{-score, busy, idle, a.cfg.ID}
	}
	return agentKey{busy, idle, 0, a.cfg.ID}
}

// ---- timers ----

func (e *Engine) pushTimer(t *timer) { e.timers.push(t) }

// runTimers fires every timer due by now. Handlers only change state and
// touch what they free; the decisions wait for stabilize, so that several
// things due at once are decided together, in priority order.
func (e *Engine) runTimers() {
	now := e.now.UnixNano()
	for len(e.timers) > 0 && e.timers[0].at <= now {
		t := e.timers.pop()
		switch t.kind {
		case timerOffer:
			it := t.item
			if it.done || it.status != StatusOffered || uint64(it.attempts) != t.gen {
				continue
			}
			e.timeout(it)
		case timerACW:
			a := t.agent
			if a.removed || a.presence != AfterContactWork || a.acwUntil.UnixNano() != t.at {
				continue
			}
			e.setPresence(a, e.loadPresence(a), ReasonWrapUpEnd, time.Time{})
			e.touchAgent(a)
		case timerCooldown:
			it := t.item
			if it.done {
				continue
			}
			if until, ok := it.declined[t.aux]; ok && !until.After(e.now) {
				delete(it.declined, t.aux)
				if len(it.declined) == 0 {
					it.declined = nil
				}
			}
			if it.status == StatusWaiting {
				e.touchItem(it)
			}
		case timerPrefer:
			it := t.item
			if it.done || it.status != StatusWaiting || it.reserved == nil || it.w.PreferredUntil.UnixNano() != t.at {
				continue
			}
			e.releasePreference(it, ReasonWaitExpired)
		case timerWait:
			it := t.item
			if it.armedGen == t.gen && it.armedAt.UnixNano() == t.at {
				it.armedAt, it.armedGen = time.Time{}, 0
			}
			if it.done || it.status != StatusWaiting || it.qgen != t.gen {
				continue
			}
			e.settle(it)
		}
	}
}

func (e *Engine) timeout(it *itemState) {
	a := it.agent
	until := e.cooldown(it, a)
	a.missed++
	e.emit(OfferTimedOut{EventHeader: e.header(), ItemID: it.w.ID, AgentID: a.cfg.ID, ExpiresAt: it.expires,
		Missed: a.missed, CooldownUntil: until})
	e.dropOffer(it)
	if k := e.cfg.MaxMissedOffers; k > 0 && a.missed >= k {
		a.missed = 0
		e.setPresence(a, Away, ReasonMissedOffers, time.Time{})
	}
	e.park(it)
	e.settle(it)
	e.touchAgent(a)
}
