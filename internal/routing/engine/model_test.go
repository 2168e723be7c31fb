package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// The model follows the engine through its events only, checks each event
// against the rules as it applies it, and after every action checks the
// state-wide invariants. It is deliberately naive (every check scans
// everything) so that it can be trusted.

type mItem struct {
	w             WorkItem // QueueID current
	seq           int
	status        ItemStatus
	agent         string
	expires       time.Time
	declined      map[string]time.Time
	reservedFor   string
	reservedUntil time.Time
	replaced      bool
	override      map[string]int
	queuedAt      time.Time
	stage         int
	revokedFrom   string // agent whose offer was revoked for a reassignment
}

type mAgent struct {
	cfg      Agent
	presence Presence
	offer    string
	held     map[string]bool
	missed   int
}

type model struct {
	cfg        Config
	queues     map[string]Queue
	open       map[string]bool
	agents     map[string]*mAgent
	items      map[string]*mItem
	lastServed map[string]LastServed
	now        time.Time
	prevNow    time.Time
	seq        int
	eventSeq   uint64
}

func (m *model) reqs(it *mItem) map[string]int {
	if it.replaced {
		return it.override
	}
	r := maps.Clone(m.queues[it.w.QueueID].Skills)
	if r == nil {
		r = map[string]int{}
	}
	for k, v := range it.w.Skills {
		r[k] = max(r[k], v)
	}
	return r
}

func (m *model) fits(a *mAgent, it *mItem) bool {
	if a.cfg.Capacity[it.w.Channel] <= 0 {
		return false
	}
	if len(a.cfg.Queues) > 0 && !slices.Contains(a.cfg.Queues, it.w.QueueID) {
		return false
	}
	for s, l := range m.reqs(it) {
		have, ok := a.cfg.Skills[s]
		if !ok || have < l {
			return false
		}
	}
	return true
}

func (m *model) load(a *mAgent, ch Channel) int {
	n := 0
	for id := range a.held {
		if m.items[id].w.Channel == ch {
			n++
		}
	}
	return n
}

func (m *model) assignedCount(a *mAgent) int {
	n := 0
	for id := range a.held {
		if m.items[id].status == StatusAssigned {
			n++
		}
	}
	return n
}

func (m *model) blocked(a *mAgent, ch Channel, except string) bool {
	for id := range a.held {
		if id == except {
			continue
		}
		if slices.Contains(m.cfg.Blocking[m.items[id].w.Channel], ch) {
			return true
		}
	}
	return false
}

func (m *model) ready(a *mAgent, ch Channel) bool {
	return (a.presence == Available || a.presence == Busy) && a.offer == "" &&
		m.load(a, ch) < a.cfg.Capacity[ch] && !m.blocked(a, ch, "")
}

// offerable: could item it be offered to agent a right now?
func (m *model) offerable(a *mAgent, it *mItem) bool {
	if it.status != StatusWaiting || !m.open[it.w.QueueID] || !m.ready(a, it.w.Channel) || !m.fits(a, it) {
		return false
	}
	if u, ok := it.declined[a.cfg.ID]; ok && u.After(m.now) {
		return false
	}
	if it.reservedFor != "" && it.reservedUntil.After(m.now) && it.reservedFor != a.cfg.ID {
		return false
	}
	return true
}

func (m *model) key(it *mItem) [3]int64 {
	base := int64(m.queues[it.w.QueueID].Priority + it.w.Priority)
	t := it.w.EnqueuedAt.UnixNano()
	if m.cfg.AgingInterval == 0 {
		return [3]int64{-base, t, int64(it.seq)}
	}
	return [3]int64{t - base*int64(m.cfg.AgingInterval), t, int64(it.seq)}
}

func keyLess(a, b [3]int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

func (m *model) sortedItems() []*mItem {
	its := slices.Collect(maps.Values(m.items))
	slices.SortFunc(its, func(a, b *mItem) int { return a.seq - b.seq })
	return its
}

func (m *model) sortedAgents() []*mAgent {
	as := slices.Collect(maps.Values(m.agents))
	slices.SortFunc(as, func(a, b *mAgent) int {
		if a.cfg.ID < b.cfg.ID {
			return -1
		}
		return 1
	})
	return as
}

// apply checks and applies the events of one call made at m.now.
func (m *model) apply(t *rapid.T, evs []Event) {
	t.Helper()
	for _, ev := range evs {
		h := ev.Header()
		if h.Seq != m.eventSeq+1 || !h.At.Equal(m.now) {
			t.Fatalf("event header %+v, want seq %d at %v", h, m.eventSeq+1, m.now)
		}
		m.eventSeq = h.Seq
		m.applyOne(t, ev)
	}
}

func (m *model) holdCheck(t *rapid.T, what string, a *mAgent, it *mItem) {
	t.Helper()
	// Capacity per channel, excluding the item itself if the agent holds it.
	l := m.load(a, it.w.Channel)
	if a.held[it.w.ID] {
		l--
	}
	if l >= a.cfg.Capacity[it.w.Channel] {
		t.Fatalf("%s: agent %s over %s capacity (%d held, capacity %d)", what, a.cfg.ID, it.w.Channel, l, a.cfg.Capacity[it.w.Channel])
	}
	if m.blocked(a, it.w.Channel, it.w.ID) {
		t.Fatalf("%s: agent %s holds work that blocks %s", what, a.cfg.ID, it.w.Channel)
	}
}

func (m *model) applyOne(t *rapid.T, ev Event) {
	t.Helper()
	switch ev := ev.(type) {
	case ItemQueued:
		if m.items[ev.Item.ID] != nil {
			t.Fatalf("item %s queued twice", ev.Item.ID)
		}
		m.seq++
		it := &mItem{w: ev.Item, seq: m.seq, status: StatusWaiting, queuedAt: m.now}
		if ev.Item.PreferredAgentID != "" && ev.Item.PreferredUntil.After(m.now) {
			it.reservedFor, it.reservedUntil = ev.Item.PreferredAgentID, ev.Item.PreferredUntil
		}
		m.items[ev.Item.ID] = it
	case OfferMade:
		it, a := m.items[ev.ItemID], m.agents[ev.AgentID]
		if it == nil || a == nil {
			t.Fatalf("offer of unknown item or agent: %+v", ev)
		}
		if it.status != StatusWaiting {
			t.Fatalf("offer of item %s that is %s to %s", it.w.ID, it.status, it.agent)
		}
		if a.offer != "" {
			t.Fatalf("agent %s got a second offer %s while holding %s", a.cfg.ID, it.w.ID, a.offer)
		}
		if a.presence != Available && a.presence != Busy {
			t.Fatalf("offer to agent %s who is %s", a.cfg.ID, a.presence)
		}
		m.holdCheck(t, "offer", a, it)
		if !m.offerable(a, it) {
			t.Fatalf("offer of %s to %s breaks a rule (skills, queue open, cooldown or reservation): item %+v", it.w.ID, a.cfg.ID, *it)
		}
		if !ev.ExpiresAt.Equal(m.now.Add(m.cfg.OfferTimeout)) {
			t.Fatalf("offer expires at %v, want now+%v", ev.ExpiresAt, m.cfg.OfferTimeout)
		}
		// Priority and FIFO: no item the agent could be offered is better.
		k := m.key(it)
		for _, y := range m.sortedItems() {
			if y != it && m.offerable(a, y) && keyLess(m.key(y), k) {
				t.Fatalf("agent %s offered %s (key %v) while better %s (key %v) waits", a.cfg.ID, it.w.ID, k, y.w.ID, m.key(y))
			}
		}
		it.status, it.agent, it.expires = StatusOffered, a.cfg.ID, ev.ExpiresAt
		it.reservedFor, it.reservedUntil = "", time.Time{}
		a.offer = it.w.ID
		a.held[it.w.ID] = true
	case OfferAccepted:
		it, a := m.items[ev.ItemID], m.agents[ev.AgentID]
		if it == nil || a == nil || it.status != StatusOffered || it.agent != a.cfg.ID || a.offer != it.w.ID {
			t.Fatalf("accept without offer: %+v", ev)
		}
		it.status = StatusAssigned
		a.offer = ""
		a.missed = 0
	case ItemAssigned:
		it, a := m.items[ev.ItemID], m.agents[ev.AgentID]
		if it == nil || a == nil {
			t.Fatalf("assignment of unknown item or agent: %+v", ev)
		}
		if !ev.Reassigned {
			if it.status != StatusAssigned || it.agent != a.cfg.ID {
				t.Fatalf("assignment without accept: %+v", ev)
			}
			return
		}
		if a.presence == Offline {
			t.Fatalf("reassigned to offline agent %s", a.cfg.ID)
		}
		m.holdCheck(t, "reassign", a, it)
		if from := it.agent + it.revokedFrom; from != ev.FromAgentID {
			t.Fatalf("reassign from %q, model holder %q", ev.FromAgentID, from)
		}
		it.revokedFrom = ""
		if it.status == StatusOffered && it.agent != a.cfg.ID {
			t.Fatalf("offer of reassigned item not revoked first")
		}
		if prev := m.agents[it.agent]; prev != nil {
			delete(prev.held, it.w.ID)
			if prev.offer == it.w.ID {
				prev.offer = ""
			}
		}
		it.status, it.agent = StatusAssigned, a.cfg.ID
		it.reservedFor, it.reservedUntil = "", time.Time{}
		a.held[it.w.ID] = true
	case OfferDeclined, OfferTimedOut, OfferRevoked:
		var itemID, agentID string
		switch ev := ev.(type) {
		case OfferDeclined:
			itemID, agentID = ev.ItemID, ev.AgentID
		case OfferTimedOut:
			itemID, agentID = ev.ItemID, ev.AgentID
		case OfferRevoked:
			itemID, agentID = ev.ItemID, ev.AgentID
		}
		it, a := m.items[itemID], m.agents[agentID]
		if it == nil || a == nil || it.status != StatusOffered || it.agent != agentID || a.offer != itemID {
			t.Fatalf("%T without offer: %+v", ev, ev)
		}
		switch ev := ev.(type) {
		case OfferDeclined:
			a.missed = 0
			m.cool(t, it, a, ev.CooldownUntil)
		case OfferRevoked:
			if ev.Reason == ReasonReassigned {
				it.revokedFrom = agentID
			}
		case OfferTimedOut:
			// Exactly at expiry: due by now, not due at the previous call.
			if !ev.ExpiresAt.Equal(it.expires) || it.expires.After(m.now) || !it.expires.After(m.prevNow) {
				t.Fatalf("timeout at %v of offer expiring %v (previous call %v)", m.now, it.expires, m.prevNow)
			}
			a.missed++
			if ev.Missed != a.missed {
				t.Fatalf("missed %d, model %d", ev.Missed, a.missed)
			}
			m.cool(t, it, a, ev.CooldownUntil)
		}
		it.status, it.agent = StatusWaiting, ""
		a.offer = ""
		delete(a.held, itemID)
	case ItemRequeued:
		it, a := m.items[ev.ItemID], m.agents[ev.FromAgentID]
		if it == nil || a == nil || it.status != StatusAssigned || it.agent != a.cfg.ID {
			t.Fatalf("requeue of item not held: %+v", ev)
		}
		it.status, it.agent, it.queuedAt = StatusWaiting, "", m.now
		delete(a.held, it.w.ID)
	case ItemCompleted:
		it, a := m.items[ev.ItemID], m.agents[ev.AgentID]
		if it == nil || a == nil || it.status != StatusAssigned || it.agent != a.cfg.ID {
			t.Fatalf("completion of item not assigned: %+v", ev)
		}
		delete(a.held, it.w.ID)
		delete(m.items, it.w.ID)
		if it.w.CustomerID != "" {
			m.lastServed[it.w.CustomerID] = LastServed{CustomerID: it.w.CustomerID, AgentID: a.cfg.ID, At: m.now}
		}
	case ItemAbandoned:
		it := m.items[ev.ItemID]
		if it == nil || it.status != StatusWaiting {
			t.Fatalf("abandon of item not waiting: %+v (model %+v)", ev, it)
		}
		if ev.Reason == ReasonMaxWait {
			q := m.queues[it.w.QueueID]
			if q.MaxWait <= 0 || m.now.Before(it.queuedAt.Add(q.MaxWait)) {
				t.Fatalf("max-wait abandon before max wait: %+v", ev)
			}
		}
		delete(m.items, it.w.ID)
	case ItemOverflowed:
		it := m.items[ev.ItemID]
		if it == nil || it.status != StatusWaiting || ev.FromQueueID != it.w.QueueID {
			t.Fatalf("overflow of item not waiting in that queue: %+v", ev)
		}
		q := m.queues[it.w.QueueID]
		switch ev.Reason {
		case ReasonMaxWait:
			if q.MaxWait <= 0 || m.now.Before(it.queuedAt.Add(q.MaxWait)) || ev.ToQueueID != q.MaxWaitQueueID {
				t.Fatalf("max-wait overflow not due: %+v", ev)
			}
		case ReasonOverflow:
			if it.stage >= len(q.Overflow) || m.now.Before(it.queuedAt.Add(q.Overflow[it.stage].After)) {
				t.Fatalf("overflow not due: %+v (stage %d)", ev, it.stage)
			}
		}
		if ev.ToQueueID != it.w.QueueID {
			it.w.QueueID, it.queuedAt, it.stage = ev.ToQueueID, m.now, 0
			it.replaced, it.override = false, nil
		} else {
			it.stage++
		}
		if ev.Skills != nil {
			it.replaced, it.override = true, maps.Clone(ev.Skills)
		} else if ev.Reason == ReasonOverflow && ev.ToQueueID == ev.FromQueueID {
			it.replaced, it.override = true, map[string]int{}
		}
		it.reservedFor, it.reservedUntil = "", time.Time{}
	case PreferenceReleased:
		it := m.items[ev.ItemID]
		if it == nil || it.reservedFor != ev.AgentID {
			t.Fatalf("release of a reservation not held: %+v", ev)
		}
		if ev.Reason == ReasonWaitExpired && it.reservedUntil.After(m.now) {
			t.Fatalf("reservation released before its end: %+v", ev)
		}
		it.reservedFor, it.reservedUntil = "", time.Time{}
	case PresenceChanged:
		a := m.agents[ev.AgentID]
		if a == nil || a.presence != ev.From {
			t.Fatalf("presence change from %s, model %+v", ev.From, a)
		}
		if ev.Reason == ReasonMissedOffers {
			if k := m.cfg.MaxMissedOffers; ev.To != Away || a.missed != k {
				t.Fatalf("set %s for missed offers after %d misses (K=%d)", ev.To, a.missed, k)
			}
			a.missed = 0
		}
		a.presence = ev.To
	case AgentRemoved:
		a := m.agents[ev.AgentID]
		if a == nil || len(a.held) > 0 {
			t.Fatalf("removed agent still holds work: %+v", a)
		}
		delete(m.agents, ev.AgentID)
	case QueueStateChanged:
		m.open[ev.QueueID] = ev.Open
	default:
		t.Fatalf("unexpected event %T", ev)
	}
}

func (m *model) cool(t *rapid.T, it *mItem, a *mAgent, until time.Time) {
	if m.cfg.DeclineCooldown == 0 {
		if !until.IsZero() {
			t.Fatalf("cooldown %v without cooldown configured", until)
		}
		return
	}
	if !until.Equal(m.now.Add(m.cfg.DeclineCooldown)) {
		t.Fatalf("cooldown until %v, want now+%v", until, m.cfg.DeclineCooldown)
	}
	if it.declined == nil {
		it.declined = map[string]time.Time{}
	}
	it.declined[a.cfg.ID] = until
}

// check is the state-wide invariant, run after every action.
func (m *model) check(t *rapid.T, e *Engine) {
	t.Helper()
	holders := map[string]string{}
	for _, a := range m.sortedAgents() {
		offers := 0
		for id := range a.held {
			if h, dup := holders[id]; dup {
				t.Fatalf("item %s held by %s and %s", id, h, a.cfg.ID)
			}
			holders[id] = a.cfg.ID
			if m.items[id].status == StatusOffered {
				offers++
			}
		}
		if offers > 1 {
			t.Fatalf("agent %s holds %d offers", a.cfg.ID, offers)
		}
		if k := m.cfg.MaxMissedOffers; k > 0 && a.missed >= k {
			t.Fatalf("agent %s missed %d offers and is still %s", a.cfg.ID, a.missed, a.presence)
		}
		// Busy exactly while holding accepted work (in the ready states).
		if a.presence == Available || a.presence == Busy {
			want := Available
			if m.assignedCount(a) > 0 {
				want = Busy
			}
			if a.presence != want {
				t.Fatalf("agent %s is %s with %d accepted items", a.cfg.ID, a.presence, m.assignedCount(a))
			}
		}
		if _, p, ok := e.Agent(a.cfg.ID); !ok || p != a.presence {
			t.Fatalf("engine has agent %s as %s, model %s", a.cfg.ID, p, a.presence)
		}
	}
	for _, it := range m.sortedItems() {
		if (it.status == StatusWaiting) != (holders[it.w.ID] == "") {
			t.Fatalf("item %s is %s, held by %q", it.w.ID, it.status, holders[it.w.ID])
		}
		if it.status == StatusOffered && !it.expires.After(m.now) {
			t.Fatalf("offer of %s expired at %v and still stands at %v", it.w.ID, it.expires, m.now)
		}
		if it.status != StatusWaiting {
			continue
		}
		q := m.queues[it.w.QueueID]
		if q.MaxWait > 0 && !m.now.Before(it.queuedAt.Add(q.MaxWait)) {
			t.Fatalf("item %s waits past its max wait", it.w.ID)
		}
		if it.stage < len(q.Overflow) && !m.now.Before(it.queuedAt.Add(q.Overflow[it.stage].After)) {
			t.Fatalf("item %s waits past an overflow rule", it.w.ID)
		}
		if it.reservedFor != "" && !it.reservedUntil.After(m.now) {
			t.Fatalf("item %s still reserved after its wait", it.w.ID)
		}
		// Work conservation: no ready agent that the item could be offered to.
		for _, a := range m.sortedAgents() {
			if m.offerable(a, it) {
				t.Fatalf("agent %s is ready and fits waiting item %s (%+v)", a.cfg.ID, it.w.ID, *it)
			}
		}
	}
	// Stats agree with the model.
	for _, qid := range []string{"q0", "q1", "q2"} {
		st, err := e.Stats(qid, m.now)
		if err != nil {
			t.Fatal(err)
		}
		var w, o, as int
		for _, it := range m.items {
			if it.w.QueueID != qid {
				continue
			}
			switch it.status {
			case StatusWaiting:
				w++
			case StatusOffered:
				o++
			case StatusAssigned:
				as++
			}
		}
		if st.Waiting != w || st.Offered != o || st.Assigned != as || st.Open != m.open[qid] {
			t.Fatalf("stats of %s: %+v, model waiting %d offered %d assigned %d open %v", qid, st, w, o, as, m.open[qid])
		}
	}
	// The engine agrees on every item's status and holder.
	s := e.Snapshot()
	if len(s.Items) != len(m.items) {
		t.Fatalf("engine has %d items, model %d", len(s.Items), len(m.items))
	}
	for _, is := range s.Items {
		it := m.items[is.ID]
		if it == nil || it.status != is.Status || it.agent != is.AgentID || it.w.QueueID != is.QueueID {
			t.Fatalf("engine item %+v, model %+v", is, it)
		}
	}
}

var (
	modelSkills   = []string{"en", "fr"}
	modelAgentIDs = []string{"a0", "a1", "a2", "a3"}
	modelChannels = map[string][]Channel{
		"q0": {ChannelVoice, ChannelChat},
		"q1": {ChannelChat, ChannelEmail},
		"q2": {ChannelVoice, ChannelChat, ChannelEmail},
	}
)

func genAgent(id string) *rapid.Generator[Agent] {
	return rapid.Custom(func(t *rapid.T) Agent {
		a := Agent{ID: id, Skills: map[string]int{}, Capacity: map[Channel]int{}}
		for _, s := range modelSkills {
			if l := rapid.IntRange(0, 3).Draw(t, "level_"+s); l > 0 {
				a.Skills[s] = l
			}
		}
		a.Capacity[ChannelVoice] = rapid.IntRange(0, 1).Draw(t, "voice")
		a.Capacity[ChannelChat] = rapid.IntRange(0, 3).Draw(t, "chat")
		a.Capacity[ChannelEmail] = rapid.IntRange(0, 2).Draw(t, "email")
		if rapid.IntRange(0, 4).Draw(t, "restricted") == 0 {
			a.Queues = []string{rapid.SampledFrom([]string{"q0", "q1", "q2"}).Draw(t, "only")}
		}
		return a
	})
}

var strategies = []Strategy{LongestIdle, LeastBusy, RoundRobin, BestSkill}

func modelQueues(t *rapid.T) []Queue {
	return []Queue{
		{ID: "q0", Channels: modelChannels["q0"], Skills: map[string]int{"en": 1},
			Strategy: rapid.SampledFrom(strategies).Draw(t, "s0"),
			Overflow: []OverflowRule{{After: 40 * time.Second, Skills: map[string]int{}}}},
		{ID: "q1", Channels: modelChannels["q1"], Skills: map[string]int{"fr": 1}, Priority: 1,
			Strategy:         rapid.SampledFrom(strategies).Draw(t, "s1"),
			Overflow:         []OverflowRule{{After: 30 * time.Second, QueueID: "q2"}},
			AfterContactWork: 5 * time.Second},
		{ID: "q2", Strategy: rapid.SampledFrom(strategies).Draw(t, "s2"), MaxWait: 90 * time.Second},
	}
}

func TestEngineModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg := Config{OfferTimeout: 15 * time.Second,
			DeclineCooldown: rapid.SampledFrom([]time.Duration{20 * time.Second, 20 * time.Second, -1}).Draw(t, "cooldown"),
			MaxMissedOffers: rapid.SampledFrom([]int{2, 3, -1}).Draw(t, "maxMissed"),
			AgingInterval:   rapid.SampledFrom([]time.Duration{10 * time.Second, 10 * time.Second, -1}).Draw(t, "aging"),
			PreferredWait:   10 * time.Second, PreferredWindow: time.Hour}
		e := New(cfg)
		m := &model{cfg: e.Config(), queues: map[string]Queue{}, open: map[string]bool{}, agents: map[string]*mAgent{},
			items: map[string]*mItem{}, lastServed: map[string]LastServed{}, now: t0, prevNow: t0.Add(-time.Second)}
		call := func(ev []Event, err error) error {
			m.apply(t, ev)
			return err
		}
		advance := func(d time.Duration) {
			m.prevNow = m.now
			m.now = m.now.Add(d)
		}
		steps := rapid.SampledFrom([]time.Duration{0, 0, 500 * time.Millisecond, time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 31 * time.Second})
		for _, q := range modelQueues(t) {
			if err := call(e.UpsertQueue(q, m.now)); err != nil {
				t.Fatal(err)
			}
			m.queues[q.ID], m.open[q.ID] = q, true
		}
		nextItem := 0
		pick := func(t *rapid.T, label string, ok func(*mItem) bool) *mItem {
			var c []*mItem
			for _, it := range m.sortedItems() {
				if ok(it) {
					c = append(c, it)
				}
			}
			if len(c) == 0 {
				t.Skip("nothing to " + label)
			}
			return rapid.SampledFrom(c).Draw(t, label)
		}
		pickAgent := func(t *rapid.T) *mAgent {
			as := m.sortedAgents()
			if len(as) == 0 {
				t.Skip("no agents")
			}
			return rapid.SampledFrom(as).Draw(t, "agent")
		}
		actions := map[string]func(*rapid.T){
			"upsertAgent": func(t *rapid.T) {
				id := rapid.SampledFrom(modelAgentIDs).Draw(t, "id")
				a := genAgent(id).Draw(t, "cfg")
				advance(steps.Draw(t, "dt"))
				// Timers due by now fire under the old configuration.
				m.apply(t, e.Tick(m.now))
				ma := m.agents[id]
				if ma == nil {
					ma = &mAgent{presence: Offline, held: map[string]bool{}}
					m.agents[id] = ma
				}
				ma.cfg = a
				if err := call(e.UpsertAgent(a, m.now)); err != nil {
					t.Fatal(err)
				}
			},
			"removeAgent": func(t *rapid.T) {
				a := pickAgent(t)
				advance(steps.Draw(t, "dt"))
				if err := call(e.RemoveAgent(a.cfg.ID, m.now)); err != nil {
					t.Fatal(err)
				}
				if m.agents[a.cfg.ID] != nil {
					t.Fatalf("agent %s not removed", a.cfg.ID)
				}
			},
			"presence": func(t *rapid.T) {
				a := pickAgent(t)
				p := rapid.SampledFrom([]Presence{Available, Available, Available, Away, Offline, AfterContactWork}).Draw(t, "presence")
				advance(steps.Draw(t, "dt"))
				if err := call(e.SetPresence(a.cfg.ID, p, "test", m.now)); err != nil {
					t.Fatal(err)
				}
				if p == Available {
					m.agents[a.cfg.ID].missed = 0
				}
			},
			"enqueue": func(t *rapid.T) {
				q := rapid.SampledFrom([]string{"q0", "q1", "q2"}).Draw(t, "queue")
				w := WorkItem{ID: fmt.Sprintf("i%d", nextItem), QueueID: q,
					Channel:  rapid.SampledFrom(modelChannels[q]).Draw(t, "channel"),
					Priority: rapid.IntRange(0, 3).Draw(t, "priority")}
				nextItem++
				if rapid.Bool().Draw(t, "skilled") {
					w.Skills = map[string]int{rapid.SampledFrom(modelSkills).Draw(t, "skill"): rapid.IntRange(1, 3).Draw(t, "level")}
				}
				if c := rapid.IntRange(0, 3).Draw(t, "customer"); c > 0 {
					w.CustomerID = fmt.Sprintf("c%d", c)
				}
				if rapid.IntRange(0, 5).Draw(t, "explicit") == 0 {
					w.PreferredAgentID = rapid.SampledFrom(modelAgentIDs).Draw(t, "preferred")
				}
				advance(steps.Draw(t, "dt"))
				w.EnqueuedAt = m.now.Add(-time.Duration(rapid.IntRange(0, 30).Draw(t, "ivr")) * time.Second)
				// Expected preferred agent, computed after the call's timers
				// have fired: tick first.
				m.apply(t, e.Tick(m.now))
				want := w.PreferredAgentID
				if want == "" && w.CustomerID != "" {
					if s, ok := m.lastServed[w.CustomerID]; ok && m.now.Before(s.At.Add(m.cfg.PreferredWindow)) {
						want = s.AgentID
					}
				}
				probe := &mItem{w: w}
				if a := m.agents[want]; a == nil || a.presence == Offline || !m.fits(a, probe) {
					want = ""
				}
				m.prevNow = m.now
				ev, err := e.Enqueue(w, m.now)
				if err != nil {
					t.Fatal(err)
				}
				if q := eventsOf[ItemQueued](ev); len(q) != 1 || q[0].Item.PreferredAgentID != want {
					t.Fatalf("preferred agent %q, want %q", q[0].Item.PreferredAgentID, want)
				}
				m.apply(t, ev)
			},
			"accept": func(t *rapid.T) {
				it := pick(t, "accept", func(it *mItem) bool { return it.status == StatusOffered })
				if err := call(e.Accept(it.w.ID, it.agent, m.now)); err != nil {
					t.Fatal(err)
				}
			},
			"acceptWrong": func(t *rapid.T) {
				it := pick(t, "accept", func(it *mItem) bool { return it.status != StatusOffered })
				a := pickAgent(t)
				if err := call(e.Accept(it.w.ID, a.cfg.ID, m.now)); !errors.Is(err, errs.ErrConflict) {
					t.Fatalf("accept without offer: %v", err)
				}
			},
			"decline": func(t *rapid.T) {
				it := pick(t, "decline", func(it *mItem) bool { return it.status == StatusOffered })
				if err := call(e.Decline(it.w.ID, it.agent, m.now)); err != nil {
					t.Fatal(err)
				}
			},
			"complete": func(t *rapid.T) {
				it := pick(t, "complete", func(it *mItem) bool { return it.status == StatusAssigned })
				if err := call(e.Complete(it.w.ID, it.agent, m.now)); err != nil {
					t.Fatal(err)
				}
			},
			"abandon": func(t *rapid.T) {
				it := pick(t, "abandon", func(*mItem) bool { return true })
				assigned := it.status == StatusAssigned
				err := call(e.Abandon(it.w.ID, m.now))
				if assigned != (err != nil) {
					t.Fatalf("abandon of %s item: %v", it.status, err)
				}
			},
			"tick": func(t *rapid.T) {
				advance(steps.Draw(t, "dt"))
				m.apply(t, e.Tick(m.now))
			},
			"reassign": func(t *rapid.T) {
				it := pick(t, "reassign", func(*mItem) bool { return true })
				a := pickAgent(t)
				self := a.held[it.w.ID]
				l := m.load(a, it.w.Channel)
				if self {
					l--
				}
				possible := a.presence != Offline && !(self && it.status == StatusAssigned) &&
					l < a.cfg.Capacity[it.w.Channel] && !m.blocked(a, it.w.Channel, it.w.ID)
				err := call(e.Reassign(it.w.ID, a.cfg.ID, m.now))
				if possible != (err == nil) {
					t.Fatalf("reassign %s to %s: possible=%v, err=%v", it.w.ID, a.cfg.ID, possible, err)
				}
			},
			"toggleQueue": func(t *rapid.T) {
				id := rapid.SampledFrom([]string{"q0", "q1", "q2"}).Draw(t, "queue")
				q := m.queues[id]
				q.Closed = !q.Closed
				q.Strategy = rapid.SampledFrom(strategies).Draw(t, "strategy")
				advance(steps.Draw(t, "dt"))
				m.apply(t, e.Tick(m.now))
				m.queues[id] = q
				if err := call(e.UpsertQueue(q, m.now)); err != nil {
					t.Fatal(err)
				}
			},
			"snapshot": func(t *rapid.T) {
				s := e.Snapshot()
				e2 := New(cfg)
				if err := e2.Restore(s); err != nil {
					t.Fatal(err)
				}
				if s2 := e2.Snapshot(); !reflect.DeepEqual(s, s2) {
					t.Fatalf("snapshot round trip differs:\n%+v\n%+v", s, s2)
				}
				e = e2
			},
			"snapshotJSON": func(t *rapid.T) {
				// As stored rows would come back: through JSON.
				b, err := json.Marshal(e.Snapshot())
				if err != nil {
					t.Fatal(err)
				}
				var s State
				if err := json.Unmarshal(b, &s); err != nil {
					t.Fatal(err)
				}
				e2 := New(cfg)
				if err := e2.Restore(s); err != nil {
					t.Fatal(err)
				}
				b2, _ := json.Marshal(e2.Snapshot())
				if string(b) != string(b2) {
					t.Fatalf("JSON round trip differs:\n%s\n%s", b, b2)
				}
				e = e2
			},
			"": func(t *rapid.T) { m.check(t, e) },
		}
		t.Repeat(actions)

		// Liveness: open every queue, give every agent every skill and make
		// them available; accepting every offer and completing every item
		// while time advances must drain the engine.
		for _, id := range []string{"q0", "q1", "q2"} {
			q := m.queues[id]
			q.Closed = false
			m.queues[id] = q
			if err := call(e.UpsertQueue(q, m.now)); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range modelAgentIDs {
			a := Agent{ID: id, Skills: map[string]int{"en": 3, "fr": 3},
				Capacity: map[Channel]int{ChannelVoice: 1, ChannelChat: 2, ChannelEmail: 2}}
			if m.agents[id] == nil {
				m.agents[id] = &mAgent{presence: Offline, held: map[string]bool{}}
			}
			m.agents[id].cfg = a
			if err := call(e.UpsertAgent(a, m.now)); err != nil {
				t.Fatal(err)
			}
			if err := call(e.SetPresence(id, Available, "drain", m.now)); err != nil {
				t.Fatal(err)
			}
			m.agents[id].missed = 0
		}
		for round := 0; len(m.items) > 0; round++ {
			if round > 200 {
				t.Fatalf("not drained after %d rounds: %d items left", round, len(m.items))
			}
			for _, it := range m.sortedItems() {
				switch it.status {
				case StatusOffered:
					if err := call(e.Accept(it.w.ID, it.agent, m.now)); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, it := range m.sortedItems() {
				if it.status == StatusAssigned {
					if err := call(e.Complete(it.w.ID, it.agent, m.now)); err != nil {
						t.Fatal(err)
					}
				}
			}
			m.check(t, e)
			advance(5 * time.Second)
			m.apply(t, e.Tick(m.now))
			m.check(t, e)
		}
	})
}
