package routing

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/access"
	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

// node is one touchpoint process as routing sees it: its own store pool,
// its own bus connection and its own service, all on one PostgreSQL schema.
type node struct {
	db   *store.DB
	svc  *Service
	stop context.CancelFunc
	done chan struct{}
}

func startNode(t *testing.T, url string) *node {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.NewPostgres(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(db, b, nil, engine.Config{})
	svc.SetLockURL(url)
	rctx, stop := context.WithCancel(ctx)
	n := &node{db: db, svc: svc, stop: stop, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		svc.RunTicker(rctx, 50*time.Millisecond)
	}()
	t.Cleanup(func() {
		n.halt()
		b.Close()
		db.Close()
	})
	return n
}

// halt stops the node's router loop and releases its lock, as when the
// process ends.
func (n *node) halt() {
	n.stop()
	<-n.done
	n.svc.Close()
}

func waitLeader(t *testing.T, nodes ...*node) *node {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if n.svc.leading() {
				return n
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no node took the router")
	return nil
}

func TestCommandsOfOtherNodesRunOnTheRouter(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	one := startNode(t, url)
	leader := waitLeader(t, one)
	two, three := startNode(t, url), startNode(t, url)
	time.Sleep(100 * time.Millisecond)
	if two.svc.leading() || three.svc.leading() {
		t.Fatal("a second node runs the router")
	}
	ann := must(access.NewService(one.db).CreateUser(ctx, "ann@example.com", "Ann", access.Agent, "correct horse battery", "test")).ID

	// Changes made on other nodes run on the router and answer like local ones.
	q := must(two.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Chat", Queue: engine.Queue{Channels: []engine.Channel{engine.ChannelChat}}}))
	_, err := three.svc.SetAgentProfile(ctx, ann, AgentProfile{Queues: []id.ID{q.ID + 1}})
	var inv *errs.Invalid
	if !errors.As(err, &inv) || inv.Field != "queues[0]" {
		t.Fatalf("refusal from the router: %v (%T)", err, err)
	}
	if _, err := three.svc.Accept(ctx, 999, ann); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("accepting an unknown item on another node: %v", err)
	}
	must(three.svc.SetAgentProfile(ctx, ann, AgentProfile{Capacity: map[engine.Channel]int{engine.ChannelChat: 1}, Queues: []id.ID{q.ID}}))
	must(two.svc.SetPresence(ctx, ann, engine.Available, ""))
	w := must(three.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat}))
	if w.State != StateOffered || w.AgentID != ann {
		t.Fatalf("enqueued on another node: %+v", w)
	}
	w = must(two.svc.Accept(ctx, w.ID, ann))
	if w.State != StateAssigned {
		t.Fatalf("accepted on another node: %+v", w)
	}
	if leader.svc.eng == nil {
		t.Fatal("the router has no engine")
	}

	// The router stops while a command waits for it: the next router runs it,
	// once, and the waiting node gets the answer.
	one.stop()
	<-one.done // one no longer serves commands, but still holds the lock
	var second *WorkItem
	var secondErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		second, secondErr = two.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelChat})
	}()
	time.Sleep(300 * time.Millisecond)
	one.svc.Close() // the lock goes; two or three takes over
	wg.Wait()
	if secondErr != nil {
		t.Fatalf("a command handed over while the router stopped: %v", secondErr)
	}
	if second.State != StateWaiting { // ann is busy with the first chat
		t.Fatalf("after takeover: %+v", second)
	}
	next := waitLeader(t, two, three)
	var n int
	if err := next.db.QueryRow(ctx, "SELECT COUNT(*) FROM work_items").Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d work items (%v), want 2", n, err)
	}
	var pending int
	if err := next.db.QueryRow(ctx, "SELECT COUNT(*) FROM routing_commands WHERE done_at IS NULL").Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("%d commands pending (%v)", pending, err)
	}
	// The new router knows what the old one did.
	must(three.svc.Complete(ctx, w.ID, ann))
	got := must(two.svc.GetItem(ctx, second.ID))
	if got.State != StateOffered || got.AgentID != ann {
		t.Fatalf("the waiting chat after the first ended: %+v", got)
	}
}

// A router that lost its lock without noticing is fenced off: its write
// fails, it stops routing, and its command goes to the router that took
// over instead of being applied twice.
func TestFormerRouterIsFenced(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	one := startNode(t, url)
	waitLeader(t, one)
	q := must(one.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Email"}))
	two := startNode(t, url)

	// Another node takes over behind one's back (as if one's lock
	// connection had died and PostgreSQL released the lock).
	one.svc.mu.Lock()
	one.svc.releaseLock() // the lock goes, but one still believes it routes
	one.svc.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for !two.svc.leading() {
		if time.Now().After(deadline) {
			t.Fatal("two did not take over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w, err := one.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelEmail})
	if err != nil {
		t.Fatalf("enqueue on the fenced node: %v", err)
	}
	if one.svc.leading() {
		t.Fatal("the fenced node still routes")
	}
	var items int
	if err := one.db.QueryRow(ctx, "SELECT COUNT(*) FROM work_items").Scan(&items); err != nil || items != 1 {
		t.Fatalf("%d work items (%v), want 1", items, err)
	}
	st := must(two.svc.Stats(ctx, q.ID))
	if st.Waiting != 1 {
		t.Fatalf("the router has %d waiting, want 1 (item %s)", st.Waiting, w.ID)
	}
}

// A caller that gives up withdraws its command: it never runs later.
func TestWithdrawnCommandNeverRuns(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	one := startNode(t, url)
	waitLeader(t, one)
	q := must(one.svc.UpsertQueue(ctx, 0, QueueInput{Name: "Email"}))
	one.stop()
	<-one.done // the router no longer serves commands
	two := startNode(t, url)
	old := CommandTimeout
	CommandTimeout = 300 * time.Millisecond
	defer func() { CommandTimeout = old }()
	if _, err := two.svc.Enqueue(ctx, NewItem{QueueID: q.ID, Channel: engine.ChannelEmail}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("enqueue without a router: %v", err)
	}
	CommandTimeout = old
	one.svc.Close()
	waitLeader(t, two)
	time.Sleep(200 * time.Millisecond)
	var items int
	if err := two.db.QueryRow(ctx, "SELECT COUNT(*) FROM work_items").Scan(&items); err != nil || items != 0 {
		t.Fatalf("%d work items (%v): a withdrawn command ran", items, err)
	}
}
