package engine

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func sec(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

type harness struct {
	t *testing.T
	e *Engine
}

func newHarness(t *testing.T, cfg Config, queues ...Queue) *harness {
	t.Helper()
	h := &harness{t: t, e: New(cfg)}
	for _, q := range queues {
		h.ok(h.e.UpsertQueue(q, t0))
	}
	return h
}

func (h *harness) ok(ev []Event, err error) []Event {
	h.t.Helper()
	if err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
	return ev
}

// agent adds an agent and makes it available at time at.
func (h *harness) agent(id string, at time.Time, skills map[string]int, capacity map[Channel]int) {
	h.t.Helper()
	h.ok(h.e.UpsertAgent(Agent{ID: id, Skills: skills, Capacity: capacity}, at))
	h.ok(h.e.SetPresence(id, Available, "", at))
}

func (h *harness) enqueue(w WorkItem, at time.Time) []Event {
	h.t.Helper()
	return h.ok(h.e.Enqueue(w, at))
}

func eventsOf[T Event](ev []Event) []T {
	var out []T
	for _, x := range ev {
		if v, ok := x.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// offerIn returns the single offer in ev ("" if none) and fails on more.
func offerIn(t *testing.T, ev []Event) (item, agent string) {
	t.Helper()
	o := eventsOf[OfferMade](ev)
	if len(o) > 1 {
		t.Fatalf("expected at most one offer, got %+v", o)
	}
	if len(o) == 0 {
		return "", ""
	}
	return o[0].ItemID, o[0].AgentID
}

func wantOffer(t *testing.T, ev []Event, item, agent string) {
	t.Helper()
	gi, ga := offerIn(t, ev)
	if gi != item || ga != agent {
		t.Fatalf("offer = (%q, %q), want (%q, %q); events %+v", gi, ga, item, agent, ev)
	}
}

var voice1 = map[Channel]int{ChannelVoice: 1}

func TestLongestIdle(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q"})
	h.agent("b", sec(1), nil, voice1)
	h.agent("c", sec(2), nil, voice1)
	h.agent("a", sec(3), nil, voice1)
	wantOffer(t, h.enqueue(WorkItem{ID: "i1", QueueID: "q", Channel: ChannelVoice}, sec(10)), "i1", "b")
	wantOffer(t, h.enqueue(WorkItem{ID: "i2", QueueID: "q", Channel: ChannelVoice}, sec(10)), "i2", "c")
	// b finishes its work last of all: a is now the longest idle.
	h.ok(h.e.Accept("i1", "b", sec(11)))
	h.ok(h.e.Complete("i1", "b", sec(20)))
	wantOffer(t, h.enqueue(WorkItem{ID: "i3", QueueID: "q", Channel: ChannelVoice}, sec(21)), "i3", "a")
}

func TestLeastBusy(t *testing.T) {
	chat4 := map[Channel]int{ChannelChat: 4}
	h := newHarness(t, Config{}, Queue{ID: "q", Strategy: LeastBusy})
	for _, id := range []string{"a", "b", "c"} {
		h.agent(id, sec(0), nil, chat4)
	}
	// Give a two chats, b one, c three (by supervisor assignment).
	load := map[string]int{"a": 2, "b": 1, "c": 3}
	n := 0
	for _, id := range []string{"a", "b", "c"} {
		for range load[id] {
			n++
			iid := "x" + itoa(n)
			h.enqueue(WorkItem{ID: iid, QueueID: "q", Channel: ChannelChat}, sec(1))
			ev := h.ok(h.e.Reassign(iid, id, sec(1)))
			// Reassigning frees the agent the item was offered to; accept any new offer at once.
			for _, o := range eventsOf[OfferMade](ev) {
				h.ok(h.e.Accept(o.ItemID, o.AgentID, sec(1)))
			}
		}
	}
	snap := h.e.Snapshot()
	loads := map[string]int{}
	for _, it := range snap.Items {
		loads[it.AgentID]++
	}
	least := ""
	for _, id := range []string{"a", "b", "c"} {
		if least == "" || loads[id] < loads[least] {
			least = id
		}
	}
	wantOffer(t, h.enqueue(WorkItem{ID: "new", QueueID: "q", Channel: ChannelChat}, sec(2)), "new", least)
}

func TestRoundRobin(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q", Strategy: RoundRobin})
	for _, id := range []string{"c", "a", "b"} {
		h.agent(id, sec(0), nil, voice1)
	}
	var got []string
	for i := range 6 {
		id := "i" + itoa(i)
		_, a := offerIn(t, h.enqueue(WorkItem{ID: id, QueueID: "q", Channel: ChannelVoice}, sec(float64(i+1))))
		got = append(got, a)
		h.ok(h.e.Accept(id, a, sec(float64(i+1))))
		h.ok(h.e.Complete(id, a, sec(float64(i+1))))
	}
	want := []string{"a", "b", "c", "a", "b", "c"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round robin order %v, want %v", got, want)
	}
}

func TestBestSkill(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q", Strategy: BestSkill, Skills: map[string]int{"fr": 1}})
	h.agent("a", sec(0), map[string]int{"fr": 1}, voice1)
	h.agent("b", sec(1), map[string]int{"fr": 3}, voice1)
	h.agent("c", sec(2), map[string]int{"fr": 2}, voice1)
	h.agent("d", sec(3), map[string]int{"de": 5}, voice1)
	wantOffer(t, h.enqueue(WorkItem{ID: "i1", QueueID: "q", Channel: ChannelVoice}, sec(5)), "i1", "b")
	wantOffer(t, h.enqueue(WorkItem{ID: "i2", QueueID: "q", Channel: ChannelVoice}, sec(5)), "i2", "c")
	// Item-level skill requirement on top of the queue's.
	wantOffer(t, h.enqueue(WorkItem{ID: "i3", QueueID: "q", Channel: ChannelVoice, Skills: map[string]int{"fr": 2}}, sec(5)), "", "")
}

func TestPreferredAgent(t *testing.T) {
	cfg := Config{PreferredWait: 30 * time.Second}
	setup := func(t *testing.T) *harness {
		h := newHarness(t, cfg, Queue{ID: "q"})
		h.agent("pat", sec(0), nil, voice1)
		h.agent("bob", sec(1), nil, voice1)
		// pat serves customer c1.
		wantOffer(t, h.enqueue(WorkItem{ID: "first", QueueID: "q", Channel: ChannelVoice, CustomerID: "c1"}, sec(2)), "first", "pat")
		h.ok(h.e.Accept("first", "pat", sec(3)))
		h.ok(h.e.Complete("first", "pat", sec(60)))
		// pat is busy on another call (explicitly preferred) when c1 calls again.
		wantOffer(t, h.enqueue(WorkItem{ID: "other", QueueID: "q", Channel: ChannelVoice, PreferredAgentID: "pat"}, sec(61)), "other", "pat")
		h.ok(h.e.Accept("other", "pat", sec(61)))
		ev := h.enqueue(WorkItem{ID: "again", QueueID: "q", Channel: ChannelVoice, CustomerID: "c1"}, sec(100))
		if q := eventsOf[ItemQueued](ev); len(q) != 1 || q[0].Item.PreferredAgentID != "pat" || !q[0].Item.PreferredUntil.Equal(sec(130)) {
			t.Fatalf("preferred agent not resolved: %+v", ev)
		}
		// bob is free but must not get it while pat's wait lasts.
		wantOffer(t, ev, "", "")
		return h
	}
	t.Run("preferred agent frees up within the wait", func(t *testing.T) {
		h := setup(t)
		wantOffer(t, h.e.Tick(sec(129)), "", "")
		wantOffer(t, h.ok(h.e.Complete("other", "pat", sec(120))), "again", "pat")
	})
	t.Run("after the wait anyone", func(t *testing.T) {
		h := setup(t)
		wantOffer(t, h.e.Tick(sec(129.999)), "", "")
		ev := h.e.Tick(sec(130))
		if r := eventsOf[PreferenceReleased](ev); len(r) != 1 || r[0].Reason != ReasonWaitExpired {
			t.Fatalf("no release: %+v", ev)
		}
		wantOffer(t, ev, "again", "bob")
	})
	t.Run("preferred agent ready at arrival gets it over a longer idle agent", func(t *testing.T) {
		h := setup(t)
		h.ok(h.e.Complete("other", "pat", sec(120)))
		h.ok(h.e.Accept("again", "pat", sec(121)))
		h.ok(h.e.Complete("again", "pat", sec(200)))
		// bob has been idle since 1 s, pat since 200 s; still pat first.
		wantOffer(t, h.enqueue(WorkItem{ID: "third", QueueID: "q", Channel: ChannelVoice, CustomerID: "c1"}, sec(201)), "third", "pat")
	})
	t.Run("outside the window no preference", func(t *testing.T) {
		h := newHarness(t, Config{PreferredWindow: time.Hour}, Queue{ID: "q"})
		h.agent("pat", sec(0), nil, voice1)
		h.agent("bob", sec(1), nil, voice1)
		h.enqueue(WorkItem{ID: "first", QueueID: "q", Channel: ChannelVoice, CustomerID: "c1"}, sec(2))
		h.ok(h.e.Accept("first", "pat", sec(3)))
		h.ok(h.e.Complete("first", "pat", sec(10)))
		h.e.Tick(sec(3700))
		h.enqueue(WorkItem{ID: "busy", QueueID: "q", Channel: ChannelVoice}, sec(3700)) // goes to bob (longest idle)
		ev := h.enqueue(WorkItem{ID: "late", QueueID: "q", Channel: ChannelVoice, CustomerID: "c1"}, sec(3700))
		if q := eventsOf[ItemQueued](ev); q[0].Item.PreferredAgentID != "" {
			t.Fatalf("preference outside window: %+v", q)
		}
		wantOffer(t, ev, "late", "pat")
	})
}

func TestOverflowAfterWait(t *testing.T) {
	h := newHarness(t, Config{},
		Queue{ID: "tier1", Skills: map[string]int{"billing": 2},
			Overflow: []OverflowRule{{After: 30 * time.Second, Skills: map[string]int{"billing": 1}}, {After: 60 * time.Second, QueueID: "general"}}},
		Queue{ID: "general"})
	h.agent("junior", sec(0), map[string]int{"billing": 1}, voice1)
	h.agent("none", sec(0), nil, voice1)
	wantOffer(t, h.enqueue(WorkItem{ID: "i", QueueID: "tier1", Channel: ChannelVoice}, sec(1)), "", "")
	wantOffer(t, h.e.Tick(sec(30.9)), "", "")
	// The junior declines the widened item; it overflows to general at 61 s.
	ev := h.e.Tick(sec(31))
	if o := eventsOf[ItemOverflowed](ev); len(o) != 1 || o[0].ToQueueID != "tier1" || o[0].Skills["billing"] != 1 {
		t.Fatalf("skills not widened: %+v", ev)
	}
	wantOffer(t, ev, "i", "junior")
	h.ok(h.e.Decline("i", "junior", sec(32)))
	ev = h.e.Tick(sec(61))
	if o := eventsOf[ItemOverflowed](ev); len(o) != 1 || o[0].ToQueueID != "general" || o[0].Skills != nil {
		t.Fatalf("no overflow to general: %+v", ev)
	}
	wantOffer(t, ev, "i", "none")
}

func TestMaxWait(t *testing.T) {
	h := newHarness(t, Config{},
		Queue{ID: "q", MaxWait: 2 * time.Minute},
		Queue{ID: "q2", MaxWait: time.Minute, MaxWaitQueueID: "voicemail"},
		Queue{ID: "voicemail", Channels: []Channel{ChannelVoice}})
	h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(0))
	h.enqueue(WorkItem{ID: "j", QueueID: "q2", Channel: ChannelVoice}, sec(0))
	ev := h.e.Tick(sec(60))
	if o := eventsOf[ItemOverflowed](ev); len(o) != 1 || o[0].ItemID != "j" || o[0].ToQueueID != "voicemail" || o[0].Reason != ReasonMaxWait {
		t.Fatalf("j not moved at max wait: %+v", ev)
	}
	if ev := h.e.Tick(sec(119.5)); len(eventsOf[ItemAbandoned](ev)) != 0 {
		t.Fatalf("abandoned early: %+v", ev)
	}
	ev = h.e.Tick(sec(125))
	if a := eventsOf[ItemAbandoned](ev); len(a) != 1 || a[0].ItemID != "i" || a[0].Reason != ReasonMaxWait || a[0].Waited != 125*time.Second {
		t.Fatalf("not abandoned at max wait: %+v", ev)
	}
	st, _ := h.e.Stats("q", sec(125))
	if st.Waiting != 0 || st.Abandoned != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestAging(t *testing.T) {
	// One level per 10 s: a priority-0 item that waited 35 s beats a fresh
	// priority-3 item, but not a fresh priority-4 one.
	h := newHarness(t, Config{AgingInterval: 10 * time.Second}, Queue{ID: "q"}, Queue{ID: "vip", Priority: 4})
	h.ok(h.e.UpsertAgent(Agent{ID: "a", Capacity: voice1}, t0))
	h.enqueue(WorkItem{ID: "old", QueueID: "q", Channel: ChannelVoice}, sec(0))
	h.enqueue(WorkItem{ID: "hi", QueueID: "q", Channel: ChannelVoice, Priority: 3}, sec(35))
	wantOffer(t, h.ok(h.e.SetPresence("a", Available, "", sec(35))), "old", "a")

	h2 := newHarness(t, Config{AgingInterval: 10 * time.Second}, Queue{ID: "q"}, Queue{ID: "vip", Priority: 4})
	h2.ok(h2.e.UpsertAgent(Agent{ID: "a", Capacity: voice1}, t0))
	h2.enqueue(WorkItem{ID: "old", QueueID: "q", Channel: ChannelVoice}, sec(0))
	h2.enqueue(WorkItem{ID: "vip", QueueID: "vip", Channel: ChannelVoice}, sec(35))
	wantOffer(t, h2.ok(h2.e.SetPresence("a", Available, "", sec(35))), "vip", "a")

	// Without aging the higher priority always wins.
	h3 := newHarness(t, Config{AgingInterval: -1}, Queue{ID: "q"})
	h3.ok(h3.e.UpsertAgent(Agent{ID: "a", Capacity: voice1}, t0))
	h3.enqueue(WorkItem{ID: "old", QueueID: "q", Channel: ChannelVoice}, sec(0))
	h3.enqueue(WorkItem{ID: "hi", QueueID: "q", Channel: ChannelVoice, Priority: 1}, sec(3600))
	wantOffer(t, h3.ok(h3.e.SetPresence("a", Available, "", sec(3600))), "hi", "a")

	// Equal effective priority: first come first served.
	h4 := newHarness(t, Config{AgingInterval: 10 * time.Second}, Queue{ID: "q"})
	h4.ok(h4.e.UpsertAgent(Agent{ID: "a", Capacity: voice1}, t0))
	h4.enqueue(WorkItem{ID: "p0", QueueID: "q", Channel: ChannelVoice}, sec(0))
	h4.enqueue(WorkItem{ID: "p1", QueueID: "q", Channel: ChannelVoice, Priority: 1}, sec(10))
	wantOffer(t, h4.ok(h4.e.SetPresence("a", Available, "", sec(20))), "p0", "a")
}

func TestCallBlocksChats(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q"})
	h.agent("a", sec(0), nil, map[Channel]int{ChannelVoice: 1, ChannelChat: 3})
	wantOffer(t, h.enqueue(WorkItem{ID: "call", QueueID: "q", Channel: ChannelVoice}, sec(1)), "call", "a")
	h.ok(h.e.Accept("call", "a", sec(2)))
	wantOffer(t, h.enqueue(WorkItem{ID: "chat1", QueueID: "q", Channel: ChannelChat}, sec(3)), "", "")
	wantOffer(t, h.ok(h.e.Complete("call", "a", sec(10))), "chat1", "a")
	h.ok(h.e.Accept("chat1", "a", sec(11)))
	// Chats do not block a call (only the other way round).
	wantOffer(t, h.enqueue(WorkItem{ID: "call2", QueueID: "q", Channel: ChannelVoice}, sec(12)), "call2", "a")
	// Chat capacity: three at most.
	h2 := newHarness(t, Config{}, Queue{ID: "q"})
	h2.agent("a", sec(0), nil, map[Channel]int{ChannelChat: 3})
	for i := range 4 {
		id := "c" + itoa(i)
		ev := h2.enqueue(WorkItem{ID: id, QueueID: "q", Channel: ChannelChat}, sec(1))
		if i < 3 {
			wantOffer(t, ev, id, "a")
			h2.ok(h2.e.Accept(id, "a", sec(1)))
		} else {
			wantOffer(t, ev, "", "")
		}
	}
}

func TestOfferTimeoutAndMissedOffers(t *testing.T) {
	h := newHarness(t, Config{OfferTimeout: 15 * time.Second, MaxMissedOffers: 2, DeclineCooldown: time.Hour}, Queue{ID: "q"})
	h.agent("a", sec(0), nil, voice1)
	h.agent("b", sec(1), nil, voice1)
	ev := h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(10))
	wantOffer(t, ev, "i", "a")
	if o := eventsOf[OfferMade](ev)[0]; !o.ExpiresAt.Equal(sec(25)) {
		t.Fatalf("expires %v", o.ExpiresAt)
	}
	if len(h.e.Tick(sec(24.999))) != 0 {
		t.Fatal("timed out early")
	}
	// Accepting exactly at expiry is too late.
	ev, err := h.e.Accept("i", "a", sec(25))
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("accept at expiry: %v", err)
	}
	if to := eventsOf[OfferTimedOut](ev); len(to) != 1 || to[0].Missed != 1 {
		t.Fatalf("no timeout: %+v", ev)
	}
	wantOffer(t, ev, "i", "b") // next agent
	h.ok(h.e.Accept("i", "b", sec(26)))
	// a misses a second offer in a row and is set away.
	wantOffer(t, h.enqueue(WorkItem{ID: "j", QueueID: "q", Channel: ChannelVoice}, sec(30)), "j", "a")
	ev = h.e.Tick(sec(45))
	p := eventsOf[PresenceChanged](ev)
	if len(p) != 1 || p[0].AgentID != "a" || p[0].To != Away || p[0].Reason != ReasonMissedOffers {
		t.Fatalf("not away after 2 missed: %+v", ev)
	}
	// An accept in between resets the count.
	h2 := newHarness(t, Config{OfferTimeout: 15 * time.Second, MaxMissedOffers: 2}, Queue{ID: "q"})
	h2.agent("a", sec(0), nil, voice1)
	h2.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(1))
	h2.e.Tick(sec(16)) // miss 1 (and i is back, but cooled down for a)
	h2.ok(h2.e.Abandon("i", sec(17)))
	h2.enqueue(WorkItem{ID: "j", QueueID: "q", Channel: ChannelVoice}, sec(17))
	h2.ok(h2.e.Accept("j", "a", sec(18)))
	h2.ok(h2.e.Complete("j", "a", sec(19)))
	h2.enqueue(WorkItem{ID: "k", QueueID: "q", Channel: ChannelVoice}, sec(20))
	ev = h2.e.Tick(sec(35))
	if to := eventsOf[OfferTimedOut](ev); len(to) != 1 || to[0].Missed != 1 || len(eventsOf[PresenceChanged](ev)) != 0 {
		t.Fatalf("count not reset by accept: %+v", ev)
	}
}

func TestDeclineCooldown(t *testing.T) {
	h := newHarness(t, Config{DeclineCooldown: 30 * time.Second}, Queue{ID: "q"})
	h.agent("a", sec(0), nil, voice1)
	wantOffer(t, h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(1)), "i", "a")
	ev := h.ok(h.e.Decline("i", "a", sec(2)))
	wantOffer(t, ev, "", "")
	// A second item is offered to a meanwhile, though i is older.
	wantOffer(t, h.enqueue(WorkItem{ID: "j", QueueID: "q", Channel: ChannelVoice}, sec(3)), "j", "a")
	h.ok(h.e.Decline("j", "a", sec(4)))
	wantOffer(t, h.e.Tick(sec(31.9)), "", "")
	wantOffer(t, h.e.Tick(sec(32)), "i", "a")
}

func TestReassign(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q"})
	h.agent("a", sec(0), nil, voice1)
	h.agent("b", sec(1), nil, map[Channel]int{ChannelVoice: 1, ChannelChat: 2})
	h.ok(h.e.UpsertAgent(Agent{ID: "off", Capacity: voice1}, sec(1)))
	h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(2))
	h.ok(h.e.Accept("i", "a", sec(3)))
	h.enqueue(WorkItem{ID: "chat", QueueID: "q", Channel: ChannelChat}, sec(4))
	h.ok(h.e.Accept("chat", "b", sec(4)))
	if _, err := h.e.Reassign("i", "off", sec(5)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("reassign to offline agent: %v", err)
	}
	// b holds a chat: a call may join it (chats don't block calls).
	ev := h.ok(h.e.Reassign("i", "b", sec(5)))
	as := eventsOf[ItemAssigned](ev)
	if len(as) != 1 || as[0].AgentID != "b" || as[0].FromAgentID != "a" || !as[0].Reassigned {
		t.Fatalf("reassign events %+v", ev)
	}
	// b now holds a call: no capacity for another call, and the call blocks chats.
	h.enqueue(WorkItem{ID: "i2", QueueID: "q", Channel: ChannelVoice}, sec(6)) // offered to a
	if _, err := h.e.Reassign("i2", "b", sec(6)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("over capacity: %v", err)
	}
	h.enqueue(WorkItem{ID: "chat2", QueueID: "q", Channel: ChannelChat}, sec(7))
	if _, err := h.e.Reassign("chat2", "b", sec(7)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("blocked by call: %v", err)
	}
}

func TestBusinessHours(t *testing.T) {
	open := false
	h := newHarness(t, Config{}, Queue{ID: "q", IsOpen: func(time.Time) bool { return open }},
		Queue{ID: "phone", RejectWhenClosed: true, IsOpen: func(time.Time) bool { return open }})
	h.agent("a", sec(0), nil, voice1)
	wantOffer(t, h.enqueue(WorkItem{ID: "mail", QueueID: "q", Channel: ChannelVoice}, sec(1)), "", "")
	if _, err := h.e.Enqueue(WorkItem{ID: "call", QueueID: "phone", Channel: ChannelVoice}, sec(1)); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("closed queue took a call: %v", err)
	}
	open = true
	ev := h.e.Tick(sec(2))
	if len(eventsOf[QueueStateChanged](ev)) != 2 {
		t.Fatalf("open not noticed: %+v", ev)
	}
	wantOffer(t, ev, "mail", "a")
}

func TestAwayKeepsWorkOfflineRequeues(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q"})
	h.agent("a", sec(0), nil, map[Channel]int{ChannelChat: 2})
	h.enqueue(WorkItem{ID: "c1", QueueID: "q", Channel: ChannelChat}, sec(1))
	h.ok(h.e.Accept("c1", "a", sec(1)))
	h.enqueue(WorkItem{ID: "c2", QueueID: "q", Channel: ChannelChat}, sec(2))
	ev := h.ok(h.e.SetPresence("a", Away, "lunch", sec(3)))
	if r := eventsOf[OfferRevoked](ev); len(r) != 1 || r[0].ItemID != "c2" {
		t.Fatalf("offer not revoked: %+v", ev)
	}
	st, _ := h.e.Stats("q", sec(3))
	if st.Assigned != 1 || st.Waiting != 1 || st.Agents[Away] != 1 {
		t.Fatalf("stats %+v", st)
	}
	h.agent("b", sec(4), nil, map[Channel]int{ChannelChat: 2})
	h.ok(h.e.Accept("c2", "b", sec(4)))
	ev = h.ok(h.e.SetPresence("a", Offline, "", sec(5)))
	if r := eventsOf[ItemRequeued](ev); len(r) != 1 || r[0].ItemID != "c1" {
		t.Fatalf("work not requeued: %+v", ev)
	}
	wantOffer(t, ev, "c1", "b")
}

func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q", MaxWait: time.Minute, Overflow: []OverflowRule{{After: 20 * time.Second, Skills: map[string]int{}}}, Skills: map[string]int{"x": 1}})
	h.agent("a", sec(0), map[string]int{"x": 1}, voice1)
	h.agent("b", sec(0), nil, voice1)
	h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice, CustomerID: "c"}, sec(1))
	h.ok(h.e.Decline("i", "a", sec(2)))
	h.enqueue(WorkItem{ID: "j", QueueID: "q", Channel: ChannelVoice}, sec(3))
	s := h.e.Snapshot()
	e2 := New(Config{})
	if err := e2.Restore(s); err != nil {
		t.Fatal(err)
	}
	if s2 := e2.Snapshot(); !reflect.DeepEqual(s, s2) {
		t.Fatalf("round trip differs:\n%+v\n%+v", s, s2)
	}
	ev1 := h.e.Tick(sec(40))
	ev2 := e2.Tick(sec(40))
	if !reflect.DeepEqual(ev1, ev2) {
		t.Fatalf("restored engine behaves differently:\n%+v\n%+v", ev1, ev2)
	}
	bad := s
	bad.Items = append([]ItemState(nil), s.Items...)
	bad.Items[0].QueueID = "nope"
	if err := e2.Restore(bad); err == nil {
		t.Fatal("restore accepted an unknown queue")
	}
}

func TestValidation(t *testing.T) {
	e := New(Config{})
	var inv *errs.Invalid
	if _, err := e.UpsertQueue(Queue{ID: "q", Overflow: []OverflowRule{{After: 0, QueueID: "x"}}}, t0); !errors.As(err, &inv) {
		t.Fatalf("overflow after 0: %v", err)
	}
	if _, err := e.UpsertQueue(Queue{ID: "q", Strategy: "random"}, t0); !errors.As(err, &inv) {
		t.Fatalf("strategy: %v", err)
	}
	e.UpsertQueue(Queue{ID: "q", Channels: []Channel{ChannelEmail}}, t0)
	if _, err := e.Enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, t0); !errors.As(err, &inv) || inv.Field != "channel" {
		t.Fatalf("channel: %v", err)
	}
	if _, err := e.Enqueue(WorkItem{ID: "i", QueueID: "nope", Channel: ChannelEmail}, t0); !errors.As(err, &inv) {
		t.Fatalf("queue: %v", err)
	}
	e.Enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelEmail}, t0)
	if _, err := e.Enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelEmail}, t0); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := e.SetPresence("nobody", Available, "", t0); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown agent: %v", err)
	}
	if _, err := e.RemoveQueue("q", t0); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("remove non-empty queue: %v", err)
	}
}

func TestManyClasses(t *testing.T) {
	// More distinct skill sets than classes are cached: emptied classes are
	// dropped and rebuilt on demand without losing eligibility.
	h := newHarness(t, Config{}, Queue{ID: "q"})
	skills := map[string]int{}
	for i := range maxIdleClasses + 50 {
		skills["k"+itoa(i)] = 1
	}
	h.ok(h.e.UpsertAgent(Agent{ID: "a", Skills: skills, Capacity: map[Channel]int{ChannelEmail: 1}}, sec(0)))
	n := maxIdleClasses + 50
	for i := range n {
		h.enqueue(WorkItem{ID: "i" + itoa(i), QueueID: "q", Channel: ChannelEmail, Skills: map[string]int{"k" + itoa(i): 1}}, sec(1))
	}
	h.ok(h.e.SetPresence("a", Available, "", sec(2)))
	for i := range n {
		id := "i" + itoa(i)
		h.ok(h.e.Accept(id, "a", sec(3)))
		ev := h.ok(h.e.Complete(id, "a", sec(3)))
		if i < n-1 {
			wantOffer(t, ev, "i"+itoa(i+1), "a")
		}
	}
	if len(h.e.classList) > maxIdleClasses+1 {
		t.Fatalf("%d classes kept", len(h.e.classList))
	}
	// A class dropped earlier is rebuilt with the agent eligible.
	wantOffer(t, h.enqueue(WorkItem{ID: "again", QueueID: "q", Channel: ChannelEmail, Skills: map[string]int{"k0": 1}}, sec(4)), "again", "a")
}

func TestOverflowToUnknownQueueIsSkipped(t *testing.T) {
	h := newHarness(t, Config{}, Queue{ID: "q", Overflow: []OverflowRule{
		{After: 10 * time.Second, QueueID: "gone"}, {After: 20 * time.Second, QueueID: "other"}}},
		Queue{ID: "other"})
	h.enqueue(WorkItem{ID: "i", QueueID: "q", Channel: ChannelVoice}, sec(0))
	if ev := h.e.Tick(sec(15)); len(ev) != 0 {
		t.Fatalf("events for unknown target: %+v", ev)
	}
	if o := eventsOf[ItemOverflowed](h.e.Tick(sec(20))); len(o) != 1 || o[0].ToQueueID != "other" {
		t.Fatalf("second rule not applied: %+v", o)
	}
	h.ok(h.e.Abandon("i", sec(21)))
	h.ok(h.e.RemoveQueue("q", sec(21)))
	if _, ok := h.e.Queue("q"); ok {
		t.Fatal("queue not removed")
	}
}

func TestRestoreFromRows(t *testing.T) {
	// Rows as a store would hold them, not written by an engine: an
	// available agent and a waiting item it fits. The first call after
	// Restore makes the offer; an overdue offer row times out at once.
	s := State{
		Now:    sec(100),
		Queues: []QueueState{{Queue: Queue{ID: "q"}, Open: true}},
		Agents: []AgentState{
			{Agent: Agent{ID: "a", Capacity: voice1}, Presence: Available, IdleSince: sec(0)},
			{Agent: Agent{ID: "b", Capacity: voice1}, Presence: Available, IdleSince: sec(0)},
		},
		Items: []ItemState{
			{WorkItem: WorkItem{ID: "w", QueueID: "q", Channel: ChannelVoice, EnqueuedAt: sec(90)}, Seq: 1, Status: StatusWaiting, QueuedAt: sec(90)},
			{WorkItem: WorkItem{ID: "o", QueueID: "q", Channel: ChannelVoice, EnqueuedAt: sec(50)}, Seq: 2, Status: StatusOffered,
				AgentID: "b", Attempts: 1, OfferedAt: sec(70), ExpiresAt: sec(90), QueuedAt: sec(50)},
		},
		ItemSeq: 2,
	}
	e := New(Config{})
	if err := e.Restore(s); err != nil {
		t.Fatal(err)
	}
	ev := e.Tick(sec(101))
	if to := eventsOf[OfferTimedOut](ev); len(to) != 1 || to[0].ItemID != "o" {
		t.Fatalf("overdue offer kept: %+v", ev)
	}
	// Both items wait, o is older: a (untouched, ready) gets o first, and b
	// (just freed, but in cooldown for o) gets w.
	offers := eventsOf[OfferMade](ev)
	got := map[string]string{}
	for _, o := range offers {
		got[o.ItemID] = o.AgentID
	}
	if !reflect.DeepEqual(got, map[string]string{"o": "a", "w": "b"}) {
		t.Fatalf("offers after restore %v (%+v)", got, ev)
	}
	two := s
	two.Items = append([]ItemState(nil), s.Items...)
	two.Items[0].Status, two.Items[0].AgentID, two.Items[0].Attempts, two.Items[0].ExpiresAt = StatusOffered, "b", 1, sec(200)
	if err := New(Config{}).Restore(two); err == nil {
		t.Fatal("two offers to one agent accepted")
	}
}
