package engine

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ItemStatus is where an item stands.
type ItemStatus string

// Item statuses. Completed and abandoned items leave the engine.
const (
	StatusWaiting  ItemStatus = "waiting"
	StatusOffered  ItemStatus = "offered"
	StatusAssigned ItemStatus = "assigned"
)

type skillReq struct {
	name  string
	level int
}

// reqsOf merges requirement maps (the higher level wins) into a sorted list.
func reqsOf(a, b map[string]int) []skillReq {
	if len(a)+len(b) == 0 {
		return nil
	}
	r := make([]skillReq, 0, len(a)+len(b))
	for n, l := range a {
		r = append(r, skillReq{n, l})
	}
	for n, l := range b {
		if i := slices.IndexFunc(r, func(s skillReq) bool { return s.name == n }); i >= 0 {
			r[i].level = max(r[i].level, l)
			continue
		}
		r = append(r, skillReq{n, l})
	}
	slices.SortFunc(r, func(x, y skillReq) int { return strings.Compare(x.name, y.name) })
	return r
}

func classKey(q string, ch Channel, reqs []skillReq) string {
	var b strings.Builder
	b.WriteString(q)
	b.WriteByte(0)
	b.WriteString(string(ch))
	for _, r := range reqs {
		b.WriteByte(0)
		b.WriteString(r.name)
		b.WriteByte(1)
		b.WriteString(strconv.Itoa(r.level))
	}
	return b.String()
}

type queueState struct {
	cfg     Queue
	open    bool
	items   map[string]*itemState
	classes []*class
	// cumulative counters for Stats
	answered, inTarget, abandoned int64
}

// class groups the waiting items of one queue that have the same channel and
// the same skill requirements. Every agent is either structurally eligible
// for all items of a class or for none (bit set elig, by agent slot), so a
// decision looks at one heap head per class instead of at every item.
type class struct {
	key       string
	q         *queueState
	ci        int
	req       []skillReq
	heap      itemHeap
	elig      []uint64
	activePos int // in Engine.active, -1 when empty
	listPos   int // in Engine.classList
	refs      int // items whose class this is
	dead      bool
}

func (c *class) eligible(slot int) bool {
	w := slot >> 6
	return w < len(c.elig) && c.elig[w]&(1<<(slot&63)) != 0
}

func (c *class) setEligible(slot int, on bool) {
	w := slot >> 6
	if w >= len(c.elig) {
		if !on {
			return
		}
		c.elig = append(c.elig, make([]uint64, w+1-len(c.elig))...)
	}
	if on {
		c.elig[w] |= 1 << (slot & 63)
	} else {
		c.elig[w] &^= 1 << (slot & 63)
	}
}

type agentState struct {
	cfg         Agent
	slot        int
	presence    Presence
	reason      string
	since       time.Time
	acwUntil    time.Time
	missed      int
	idleSince   time.Time
	lastOffered map[string]uint64 // queue → offer sequence, for round robin
	offer       *itemState
	capa        []int // by channel index
	load        []int // held items (offered and assigned) by channel index
	readyPos    []int // position in Engine.ready[ci], -1 when not there
	total       int
	assigned    int
	held        map[string]*itemState
	prefs       []*itemState // waiting items reserved for this agent
	allow       map[string]bool
	removed     bool
	pend        uint64 // == Engine.mark when touched in this round
}

func (a *agentState) capAt(ci int) int {
	if ci < len(a.capa) {
		return a.capa[ci]
	}
	return 0
}

func (a *agentState) loadAt(ci int) int {
	if ci < len(a.load) {
		return a.load[ci]
	}
	return 0
}

func (a *agentState) isReady(ci int) bool {
	return ci < len(a.readyPos) && a.readyPos[ci] >= 0
}

func (a *agentState) readyPresence() bool {
	return !a.removed && (a.presence == Available || a.presence == Busy)
}

type itemState struct {
	w        WorkItem // QueueID is the current queue; Preferred* the live reservation
	origin   string
	seq      uint64
	status   ItemStatus
	q        *queueState
	ci       int
	k, t     int64 // sort key and arrival, see itemLess
	cls      *class
	hidx     int
	queuedAt time.Time
	stage    int
	override map[string]int
	replaced bool // override is in force
	agent    *agentState
	offered  time.Time
	expires  time.Time
	assigned time.Time
	attempts int
	reserved *agentState
	declined map[string]time.Time
	qgen     uint64
	armedAt  time.Time
	armedGen uint64
	done     bool
	pend     uint64 // == Engine.mark when touched in this round
}

type served struct {
	agent string
	at    time.Time
}

type servedEntry struct {
	customer string
	at       time.Time
}
