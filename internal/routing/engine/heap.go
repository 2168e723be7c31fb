package engine

// Hand-written heaps: container/heap would box every element in an
// interface and cannot keep the back-pointers removal needs.

// itemLess orders waiting items: smallest sort key first, then earliest
// arrival, then arrival sequence. See the package doc for why the key is
// time-invariant.
func itemLess(a, b *itemState) bool {
	if a.k != b.k {
		return a.k < b.k
	}
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

// itemHeap is a binary min-heap of waiting items that keeps each item's
// index (hidx) so that an item can be removed from the middle.
type itemHeap []*itemState

func (h *itemHeap) push(it *itemState) {
	*h = append(*h, it)
	it.hidx = len(*h) - 1
	h.up(it.hidx)
}

func (h *itemHeap) remove(i int) {
	s := *h
	n := len(s) - 1
	it := s[i]
	if i != n {
		s[i] = s[n]
		s[i].hidx = i
	}
	s[n] = nil
	*h = s[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	it.hidx = -1
}

func (h itemHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !itemLess(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		h[i].hidx, h[p].hidx = i, p
		i = p
	}
}

func (h itemHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && itemLess(h[r], h[l]) {
			m = r
		}
		if !itemLess(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		h[i].hidx, h[m].hidx = i, m
		i = m
	}
	return i > start
}

// firstWhere returns the best item of the heap for which ok is true, visiting
// items in key order. It walks the heap tree best-first with a small
// frontier heap of indices, so finding the k-th best costs O(k log k): cheap
// because items an agent is excluded from (recent declines) are few.
func (h itemHeap) firstWhere(ok func(*itemState) bool, frontier *[]int32) *itemState {
	if len(h) == 0 {
		return nil
	}
	if ok(h[0]) {
		return h[0]
	}
	f := (*frontier)[:0]
	less := func(a, b int32) bool { return itemLess(h[a], h[b]) }
	push := func(i int32) {
		if int(i) >= len(h) {
			return
		}
		f = append(f, i)
		for j := len(f) - 1; j > 0; {
			p := (j - 1) / 2
			if !less(f[j], f[p]) {
				break
			}
			f[j], f[p] = f[p], f[j]
			j = p
		}
	}
	pop := func() int32 {
		top := f[0]
		n := len(f) - 1
		f[0] = f[n]
		f = f[:n]
		for j := 0; ; {
			l := 2*j + 1
			if l >= n {
				break
			}
			m := l
			if r := l + 1; r < n && less(f[r], f[l]) {
				m = r
			}
			if !less(f[m], f[j]) {
				break
			}
			f[j], f[m] = f[m], f[j]
			j = m
		}
		return top
	}
	push(1)
	push(2)
	var found *itemState
	for len(f) > 0 {
		i := pop()
		if ok(h[i]) {
			found = h[i]
			break
		}
		push(2*i + 1)
		push(2*i + 2)
	}
	*frontier = f
	return found
}

type timerKind uint8

// Timer kinds, in the order they are handled when due at the same instant.
const (
	timerOffer    timerKind = iota // an offer expires
	timerACW                       // after-contact work ends
	timerCooldown                  // a decline cooldown ends
	timerPrefer                    // the preferred agent's wait ends
	timerWait                      // overflow rule or maximum wait due
)

// timer is a due action. Timers are never cancelled: a stale one is
// recognised when it fires (gen or state no longer matches) and dropped.
type timer struct {
	at    int64
	kind  timerKind
	id    string // item or agent ID, for a stable order
	aux   string // agent ID of a cooldown
	gen   uint64
	item  *itemState
	agent *agentState
}

// timerLess orders by due time and then by content, never by insertion, so
// that an engine rebuilt from a snapshot fires same-instant timers in the
// same order as the original.
func timerLess(a, b *timer) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	if a.id != b.id {
		return a.id < b.id
	}
	if a.aux != b.aux {
		return a.aux < b.aux
	}
	return a.gen < b.gen
}

type timerHeap []*timer

func (h *timerHeap) push(t *timer) {
	*h = append(*h, t)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !timerLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *timerHeap) pop() *timer {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && timerLess(s[r], s[l]) {
			m = r
		}
		if !timerLess(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
