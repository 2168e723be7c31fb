package routing

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// A write stores only what a change touched (items named by its events,
// queues and agents that differ). After any sequence of commands, an
// engine rebuilt from the store must equal the live one: nothing changed
// in memory without reaching the store.
func TestStoreFollowsTheEngine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ctx := context.Background()
		f := newFixture(t, storetest.SQLite(t))
		queues := []id.ID{
			must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelChat}}})).ID,
			must(f.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Email", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelEmail},
				Overflow: []engine.OverflowRule{{After: 30 * time.Second, Skills: map[string]int{}}}, MaxWait: 2 * time.Minute}})).ID,
		}
		var agents []id.ID
		for i := range 3 {
			a := f.user(fmt.Sprintf("agent%d@example.com", i))
			must(f.svc.SetAgentProfile(ctx, a, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelChat: 2, engine.ChannelEmail: 1}, Queues: queues}))
			agents = append(agents, a)
		}
		open := func(state string) []*WorkItem { return must(f.svc.ListItems(ctx, ItemQuery{State: state})) }
		steps := rapid.IntRange(5, 40).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 8).Draw(rt, "op") {
			case 0, 1:
				q := rapid.IntRange(0, 1).Draw(rt, "queue")
				ch := []engine.Channel{engine.ChannelChat, engine.ChannelEmail}[q]
				f.svc.Enqueue(ctx, NewItem{QueueID: queues[q], Channel: ch, Priority: rapid.IntRange(0, 2).Draw(rt, "prio"),
					CustomerID: id.ID(rapid.IntRange(1, 4).Draw(rt, "customer"))})
			case 2:
				if its := open(StateOffered); len(its) > 0 {
					it := its[rapid.IntRange(0, len(its)-1).Draw(rt, "item")]
					f.svc.Accept(ctx, it.ID, it.AgentID)
				}
			case 3:
				if its := open(StateOffered); len(its) > 0 {
					it := its[rapid.IntRange(0, len(its)-1).Draw(rt, "item")]
					f.svc.Decline(ctx, it.ID, it.AgentID)
				}
			case 4:
				if its := open(StateAssigned); len(its) > 0 {
					it := its[rapid.IntRange(0, len(its)-1).Draw(rt, "item")]
					f.svc.Complete(ctx, it.ID, it.AgentID)
				}
			case 5:
				if its := open(""); len(its) > 0 {
					it := its[rapid.IntRange(0, len(its)-1).Draw(rt, "item")]
					if rapid.Bool().Draw(rt, "abandon") {
						f.svc.Abandon(ctx, it.ID)
					} else {
						f.svc.Reassign(ctx, it.ID, agents[rapid.IntRange(0, 2).Draw(rt, "to")])
					}
				}
			case 6:
				p := []engine.Presence{engine.Available, engine.Away, engine.Offline, engine.AfterContactWork}[rapid.IntRange(0, 3).Draw(rt, "presence")]
				f.svc.SetPresence(ctx, agents[rapid.IntRange(0, 2).Draw(rt, "agent")], p, "")
			case 7:
				f.svc.SetAgentProfile(ctx, agents[rapid.IntRange(0, 2).Draw(rt, "agent")], AgentProfile{
					Capacity: map[engine.Channel]int{engine.ChannelChat: rapid.IntRange(0, 3).Draw(rt, "chats"), engine.ChannelEmail: 1}, Queues: queues})
			case 8:
				f.clock = f.clock.Add(time.Duration(rapid.IntRange(1, 90).Draw(rt, "seconds")) * time.Second)
				f.svc.Tick(ctx)
			}
			if f.svc.eng == nil {
				continue // a refused write; the next command reloads
			}
			live := f.svc.eng.Snapshot()
			st, err := f.svc.load(ctx)
			if err != nil {
				rt.Fatal(err)
			}
			rebuilt := engine.New(engine.Config{})
			if err := rebuilt.Restore(st); err != nil {
				rt.Fatal(err)
			}
			stored := rebuilt.Snapshot()
			// The clock and the id counters are not stored as such.
			for _, s := range []*engine.State{&live, &stored} {
				s.Now, s.ItemSeq, s.OfferSeq = time.Time{}, 0, 0
			}
			if !reflect.DeepEqual(live, stored) {
				rt.Fatalf("the store differs from the engine:\nlive   %+v\nstored %+v", live, stored)
			}
		}
	})
}
