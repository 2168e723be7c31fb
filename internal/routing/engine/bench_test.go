package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// A contact center at full load: 2,000 agents, 50 queues, every agent at
// capacity and 10,000 items waiting.
const (
	benchAgents  = 2000
	benchQueues  = 50
	benchWaiting = 10000
)

var benchLangs = []string{"en", "fr", "de"}

type benchCenter struct {
	e        *Engine
	rng      *rand.Rand
	now      time.Time
	assigned [][2]string // (item, agent)
	next     int
}

func benchQueue(i int) Queue {
	chans := []Channel{ChannelVoice, ChannelChat, ChannelEmail}
	return Queue{ID: fmt.Sprintf("q%02d", i), Channels: []Channel{chans[i%3]},
		Skills: map[string]int{fmt.Sprintf("s%d", i%20): 1}, Priority: i % 3,
		Strategy: strategies[i%len(strategies)]}
}

func (c *benchCenter) tick() time.Time {
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

func (c *benchCenter) item() WorkItem {
	q := c.rng.IntN(benchQueues)
	w := WorkItem{ID: fmt.Sprintf("w%d", c.next), QueueID: fmt.Sprintf("q%02d", q),
		Channel: []Channel{ChannelVoice, ChannelChat, ChannelEmail}[q%3], Priority: c.rng.IntN(3)}
	c.next++
	if c.rng.IntN(3) == 0 {
		w.Skills = map[string]int{benchLangs[c.rng.IntN(len(benchLangs))]: 1}
	}
	return w
}

// take accepts every offer in ev and remembers the resulting assignments.
func (c *benchCenter) take(b *testing.B, ev []Event) {
	for _, x := range ev {
		if o, ok := x.(OfferMade); ok {
			if _, err := c.e.Accept(o.ItemID, o.AgentID, c.now); err != nil {
				b.Fatal(err)
			}
			c.assigned = append(c.assigned, [2]string{o.ItemID, o.AgentID})
		}
	}
}

func newBenchCenter(b *testing.B) *benchCenter {
	b.Helper()
	c := &benchCenter{e: New(Config{}), rng: rand.New(rand.NewPCG(1, 2)), now: t0}
	for i := range benchQueues {
		if _, err := c.e.UpsertQueue(benchQueue(i), c.now); err != nil {
			b.Fatal(err)
		}
	}
	for i := range benchAgents {
		a := Agent{ID: fmt.Sprintf("a%04d", i), Skills: map[string]int{}, Capacity: map[Channel]int{}}
		for _, s := range c.rng.Perm(20)[:6] {
			a.Skills[fmt.Sprintf("s%d", s)] = 1 + c.rng.IntN(3)
		}
		for _, l := range c.rng.Perm(len(benchLangs))[:1+c.rng.IntN(2)] {
			a.Skills[benchLangs[l]] = 2
		}
		switch i % 5 {
		case 0, 1:
			a.Capacity[ChannelVoice] = 1
		case 2, 3:
			a.Capacity[ChannelChat], a.Capacity[ChannelEmail] = 3, 2
		default:
			a.Capacity[ChannelVoice], a.Capacity[ChannelChat], a.Capacity[ChannelEmail] = 1, 3, 5
		}
		if _, err := c.e.UpsertAgent(a, c.now); err != nil {
			b.Fatal(err)
		}
		if _, err := c.e.SetPresence(a.ID, Available, "", c.now); err != nil {
			b.Fatal(err)
		}
	}
	for waiting := 0; waiting < benchWaiting; {
		ev, err := c.e.Enqueue(c.item(), c.tick())
		if err != nil {
			b.Fatal(err)
		}
		if len(eventsOf[OfferMade](ev)) == 0 {
			waiting++
		}
		c.take(b, ev)
	}
	return c
}

func (c *benchCenter) waiting() int {
	n := 0
	for i := range benchQueues {
		st, _ := c.e.Stats(fmt.Sprintf("q%02d", i), c.now)
		n += st.Waiting
	}
	return n
}

// cycle frees one busy agent (Complete: the decision picks its next item),
// accepts the offer, and lets a new item arrive (Enqueue: a decision too).
func (c *benchCenter) cycle(b *testing.B) (freed, arrived time.Duration) {
	i := c.rng.IntN(len(c.assigned))
	p := c.assigned[i]
	c.assigned[i] = c.assigned[len(c.assigned)-1]
	c.assigned = c.assigned[:len(c.assigned)-1]
	now := c.tick()
	start := time.Now()
	ev, err := c.e.Complete(p[0], p[1], now)
	freed = time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	c.take(b, ev)
	w := c.item()
	start = time.Now()
	ev, err = c.e.Enqueue(w, now)
	arrived = time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	c.take(b, ev)
	return freed, arrived
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkDecision measures single decisions at full load: "freed" is an
// agent finishing an item and getting the best waiting item it fits offered;
// "arrival" an item arriving (and being queued, or offered to a ready
// agent); "idle_center" an item arriving while all 2,000 agents are idle and
// ready (the strategy picks among every agent that fits).
func BenchmarkDecision(b *testing.B) {
	b.Run("freed", func(b *testing.B) {
		c := newBenchCenter(b)
		if n := c.waiting(); n < benchWaiting {
			b.Fatalf("only %d waiting", n)
		}
		freed := make([]time.Duration, 0, b.N)
		arrived := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			f, a := c.cycle(b)
			freed = append(freed, f)
			arrived = append(arrived, a)
		}
		b.StopTimer()
		b.ReportMetric(float64(percentile(freed, 0.50).Nanoseconds()), "p50-freed-ns")
		b.ReportMetric(float64(percentile(freed, 0.99).Nanoseconds()), "p99-freed-ns")
		b.ReportMetric(float64(percentile(arrived, 0.99).Nanoseconds()), "p99-arrival-ns")
		b.ReportMetric(float64(slices.Max(freed).Nanoseconds()), "max-freed-ns")
	})
	b.Run("idle_center", func(b *testing.B) {
		e := New(Config{})
		now := t0
		for i := range benchQueues {
			e.UpsertQueue(benchQueue(i), now)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range benchAgents {
			a := Agent{ID: fmt.Sprintf("a%04d", i), Skills: map[string]int{}, Capacity: map[Channel]int{ChannelVoice: 1, ChannelChat: 3, ChannelEmail: 5}}
			for _, s := range rng.Perm(20)[:6] {
				a.Skills[fmt.Sprintf("s%d", s)] = 1 + rng.IntN(3)
			}
			e.UpsertAgent(a, now)
			e.SetPresence(a.ID, Available, "", now)
		}
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			now = now.Add(time.Millisecond)
			q := i % benchQueues
			w := WorkItem{ID: fmt.Sprintf("w%d", i), QueueID: fmt.Sprintf("q%02d", q), Channel: []Channel{ChannelVoice, ChannelChat, ChannelEmail}[q%3]}
			start := time.Now()
			ev, err := e.Enqueue(w, now)
			lat = append(lat, time.Since(start))
			if err != nil || len(eventsOf[OfferMade](ev)) != 1 {
				b.Fatalf("no offer: %v %v", err, ev)
			}
			if _, err := e.Abandon(w.ID, now); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(percentile(lat, 0.50).Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(percentile(lat, 0.99).Nanoseconds()), "p99-ns")
	})
}

// BenchmarkAssignments measures sustained throughput at full load: each
// iteration is one assignment (an agent finishes, is offered the best item
// it fits, accepts) plus one arrival, keeping 10,000 items waiting.
func BenchmarkAssignments(b *testing.B) {
	c := newBenchCenter(b)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		c.cycle(b)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "assignments/s")
	if n := c.waiting(); n < benchWaiting-100 {
		b.Fatalf("waiting fell to %d", n)
	}
}
