package routing

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A morning on one chat queue, driven through the service with a clock the
// test moves, and the figures worked out by hand (times after 09:00):
//
//	0:00  Ann and Bob are agents; Ann goes available
//	0:10  chat 1 arrives, offered to Ann; 0:15 she accepts (waited 5 s)
//	0:20  chat 2 arrives and waits; 0:23 chat 3 arrives, 0:25 it leaves (2 s: a short abandon)
//	1:15  Ann completes chat 1 (handled 60 s); after-contact work until 1:45
//	1:45  the wrap-up ends; chat 2 is offered to Ann, 1:50 she accepts (waited 90 s)
//	2:00  chat 4 arrives, 2:10 it leaves (10 s, within the 20 s target)
//	2:30  chat 5 arrives, 3:00 it leaves (30 s, after the target)
//	3:50  Ann completes chat 2 (handled 120 s); 4:00 she ends her wrap-up early (10 s)
//	4:10  Bob goes available
//	4:20  chat 6 arrives, offered to Ann (idle longer); 4:25 she accepts (waited 5 s)
//	4:40  a supervisor moves chat 6 to Bob; 5:00 Bob completes it (handled 15 s + 20 s)
//	5:05  chat 7 arrives, offered to Ann; 5:06 chat 8 arrives and waits
//	5:10  now (Bob's wrap-up has run 10 s)
func TestMetricsOfAMorning(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		start := f.clock
		at := func(m, s int) { f.clock = start.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second) }
		ann, bob := f.user("ann@example.com"), f.user("bob@example.com")
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Chat", Queue: engine.Queue{
			Channels: []engine.Channel{engine.ChannelChat}, Target: engine.ServiceLevel{Percent: 80, Within: 20 * time.Second},
			AfterContactWork: 30 * time.Second, ShortAbandon: 5 * time.Second}}))
		chat1 := map[engine.Channel]int{engine.ChannelChat: 1}
		must(f.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: chat1}))
		must(f.svc.SetAgentProfile(ctx, bob, AgentProfile{Capacity: chat1}))
		must(f.svc.SetPresence(ctx, ann, engine.Available, ""))
		enqueue := func() *WorkItem { return must(f.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat})) }
		offeredTo := func(w *WorkItem, agent id.ID) {
			t.Helper()
			if w = must(f.svc.GetItem(ctx, w.ID)); w.State != StateOffered || w.AgentID != agent {
				t.Fatalf("item %s: %s to %s, want offered to %s", w.ID, w.State, w.AgentID, agent)
			}
		}

		at(0, 10)
		c1 := enqueue()
		offeredTo(c1, ann)
		at(0, 15)
		must(f.svc.Accept(ctx, c1.ID, ann))
		at(0, 20)
		c2 := enqueue()
		at(0, 23)
		c3 := enqueue()
		at(0, 25)
		must(f.svc.Abandon(ctx, c3.ID))
		at(1, 15)
		must(f.svc.Complete(ctx, c1.ID, ann))
		at(1, 45)
		if err := f.svc.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		offeredTo(c2, ann)
		at(1, 50)
		must(f.svc.Accept(ctx, c2.ID, ann))
		at(2, 0)
		c4 := enqueue()
		at(2, 10)
		must(f.svc.Abandon(ctx, c4.ID))
		at(2, 30)
		c5 := enqueue()
		at(3, 0)
		must(f.svc.Abandon(ctx, c5.ID))
		at(3, 50)
		must(f.svc.Complete(ctx, c2.ID, ann))
		at(4, 0)
		must(f.svc.SetPresence(ctx, ann, engine.Available, ""))
		at(4, 10)
		must(f.svc.SetPresence(ctx, bob, engine.Available, ""))
		at(4, 20)
		c6 := enqueue()
		offeredTo(c6, ann)
		at(4, 25)
		must(f.svc.Accept(ctx, c6.ID, ann))
		at(4, 40)
		must(f.svc.Reassign(ctx, c6.ID, bob))
		at(5, 0)
		must(f.svc.Complete(ctx, c6.ID, bob))
		at(5, 5)
		offeredTo(enqueue(), ann)
		at(5, 6)
		enqueue()
		at(5, 10)

		// A node that never ran the router reads the same figures.
		reader := f.newService()
		m := must(reader.Metrics(ctx, start, time.Time{}))
		if len(m.Queues) != 1 || len(m.Agents) != 2 {
			t.Fatalf("%d queues, %d agents", len(m.Queues), len(m.Agents))
		}
		qm := m.Queues[0]
		wantInt := func(what string, got, want int) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %d, want %d", what, got, want)
			}
		}
		wantInt("offered", qm.Offered, 8)
		wantInt("answered", qm.Answered, 3)
		wantInt("answered in target", qm.AnsweredInTarget, 2)
		wantInt("abandoned", qm.Abandoned, 3)
		wantInt("short abandons", qm.ShortAbandoned, 1)
		wantInt("abandoned in target", qm.AbandonedInTarget, 1)
		wantInt("completed", qm.Completed, 3)
		wantInt("waiting", qm.Waiting, 1)
		wantInt("offered now", qm.OfferedNow, 1)
		wantInt("handling", qm.Handling, 0)
		wantInt("agents available", qm.Agents[engine.Available], 1)
		wantInt("agents in wrap-up", qm.Agents[engine.AfterContactWork], 1)
		wantDur(t, "oldest wait", &qm.OldestWait, 4*time.Second)
		// Missed: 2 in target ÷ (3 answered + 2 abandons not short).
		wantRatio(t, "service level (missed)", qm.ServiceLevel, 2.0/5)
		wantRatio(t, "abandon rate", qm.AbandonRate, 2.0/5)
		wantDur(t, "ASA", qm.AvgSpeedOfAnswer, (5+90+5)*time.Second/3)
		wantDur(t, "longest wait answered", qm.LongestWaitAnswer, 90*time.Second)
		// (60 + 30) + (120 + 10) + (15 + 20 + 10 so far).
		wantDur(t, "AHT", qm.AvgHandleTime, (90+130+45)*time.Second/3)
		wantDur(t, "ACW", qm.AvgAfterWork, (30+10+10)*time.Second/3)

		a, b := m.Agents[0], m.Agents[1]
		if a.UserID != ann {
			a, b = b, a
		}
		wantInt("Ann handled", a.Handled, 2)
		wantDur(t, "Ann's AHT", a.AvgHandleTime, (90+130)*time.Second/2)
		// Busy 60+120+15, wrap-up 30+10; available 15+5+25+30.
		wantDur(t, "Ann working", &a.Working, 235*time.Second)
		wantDur(t, "Ann available", &a.Available, 75*time.Second)
		wantRatio(t, "Ann's occupancy", a.Occupancy, 235.0/310)
		if a.Presence != engine.Available || a.InState != 30*time.Second {
			t.Errorf("Ann is %s for %v, want available for 30s", a.Presence, a.InState)
		}
		wantInt("Bob handled", b.Handled, 1)
		wantDur(t, "Bob's AHT", b.AvgHandleTime, 30*time.Second)
		wantRatio(t, "Bob's occupancy", b.Occupancy, 30.0/60)
		if b.Presence != engine.AfterContactWork || b.InState != 10*time.Second {
			t.Errorf("Bob is %s for %v, want acw for 10s", b.Presence, b.InState)
		}

		// The other formulas on the same contacts.
		for _, c := range []struct {
			how  engine.AbandonTreatment
			want float64
		}{{engine.AbandonsMet, 3.0 / 5}, {engine.AbandonsExcluded, 2.0 / 3}, {engine.AbandonsMissed, 2.0 / 5}} {
			must(f.svc.UpsertQueue(ctx, q.ID, QueueInput{Name: "Chat", Queue: engine.Queue{
				Channels: []engine.Channel{engine.ChannelChat}, Target: engine.ServiceLevel{Percent: 80, Within: 20 * time.Second},
				AfterContactWork: 30 * time.Second, ShortAbandon: 5 * time.Second, SLAbandons: c.how}}))
			qs := must(reader.QueueMetrics(ctx, start, time.Time{}))
			wantRatio(t, "service level ("+string(c.how)+")", qs[0].ServiceLevel, c.want)
		}
		// Without a short-abandon threshold the 2 s abandon counts.
		must(f.svc.UpsertQueue(ctx, q.ID, QueueInput{Name: "Chat", Queue: engine.Queue{
			Channels: []engine.Channel{engine.ChannelChat}, Target: engine.ServiceLevel{Percent: 80, Within: 20 * time.Second}}}))
		qs := must(reader.QueueMetrics(ctx, start, time.Time{}))
		wantRatio(t, "service level, no threshold", qs[0].ServiceLevel, 2.0/6)
		wantRatio(t, "abandon rate, no threshold", qs[0].AbandonRate, 3.0/6)

		// A window in the past: [0:00, 2:00).
		m = must(reader.Metrics(ctx, start, start.Add(2*time.Minute)))
		qm = m.Queues[0]
		wantInt("offered by 2:00", qm.Offered, 3)
		wantInt("answered by 2:00", qm.Answered, 2)
		wantInt("completed by 2:00", qm.Completed, 1)
		// The queue's settings now have no threshold: the 2 s abandon counts.
		wantRatio(t, "service level by 2:00", qm.ServiceLevel, 1.0/3)
		wantDur(t, "AHT by 2:00", qm.AvgHandleTime, 90*time.Second)
		for _, ag := range m.Agents {
			if ag.UserID == ann {
				// Busy 60 + 10, wrap-up 30; available 15 + 5.
				wantRatio(t, "Ann's occupancy by 2:00", ag.Occupancy, 100.0/120)
			} else if ag.Occupancy != nil || ag.Working != 0 || ag.Available != 0 {
				t.Errorf("Bob was offline until 4:10, yet %+v", ag)
			}
		}

		// A window from 3:00: chat 2 was answered before it but completed
		// in it, so it counts for handling (all of it) and not for answering.
		m = must(reader.Metrics(ctx, start.Add(3*time.Minute), time.Time{}))
		qm = m.Queues[0]
		wantInt("answered since 3:00", qm.Answered, 1)
		wantInt("completed since 3:00", qm.Completed, 2)
		wantDur(t, "AHT since 3:00", qm.AvgHandleTime, (130+45)*time.Second/2)
		wantInt("abandoned since 3:00", qm.Abandoned, 1)
	})
}

func TestQueueRefusesBadServiceLevelSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		if _, err := f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "A", Queue: engine.Queue{SLAbandons: "ignored"}}); !isField(err, "sl_abandons") {
			t.Errorf("unknown treatment: %v", err)
		}
		if _, err := f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "B", Queue: engine.Queue{ShortAbandon: -time.Second}}); !isField(err, "short_abandon") {
			t.Errorf("negative threshold: %v", err)
		}
		q := must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "C", Queue: engine.Queue{SLAbandons: engine.AbandonsMet, ShortAbandon: 3 * time.Second}}))
		if q.SLAbandons != engine.AbandonsMet || q.ShortAbandon != 3*time.Second {
			t.Errorf("stored %+v", q.Queue)
		}
		// Nothing happened yet: no figure divides by zero.
		qs := must(f.svc.QueueMetrics(ctx, f.clock.Add(-time.Hour), time.Time{}))
		if len(qs) != 1 || qs[0].ServiceLevel != nil || qs[0].AbandonRate != nil || qs[0].AvgHandleTime != nil || qs[0].AvgSpeedOfAnswer != nil {
			t.Errorf("empty queue: %+v", qs)
		}
	})
}

func wantDur(t *testing.T, what string, got *time.Duration, want time.Duration) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s = %v, want %v", what, fmtDur(got), want)
	}
}

func fmtDur(d *time.Duration) any {
	if d == nil {
		return "none"
	}
	return *d
}

func wantRatio(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = none, want %.4f", what, want)
	} else if math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s = %.4f, want %.4f", what, *got, want)
	}
}
