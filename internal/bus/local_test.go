package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recv returns the next event of s, failing the test after a few seconds.
func recv(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatal("subscription channel closed, want an event")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return Event{}
}

// none fails the test if s receives an event within d.
func none(t *testing.T, s *Subscription, d time.Duration) {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if ok {
			t.Fatalf("unexpected event %+v", e)
		}
		t.Fatal("subscription channel closed, want it open and empty")
	case <-time.After(d):
	}
}

// closedChan fails the test unless s's channel is closed (after buffered events).
func closedChan(t *testing.T, s *Subscription) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed within 5s")
		}
	}
}

// noLeak fails the test if the goroutine count does not come back to before.
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d after, %d before\n%s", n, before, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func publish(t *testing.T, b Bus, typ string, topics ...string) {
	t.Helper()
	if err := b.Publish(context.Background(), Event{Type: typ, Topics: topics}); err != nil {
		t.Fatalf("publish %s: %v", typ, err)
	}
}

func TestLocalRouting(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	case1 := l.Subscribe("case:1")
	case2 := l.Subscribe("case:2")
	inbox := l.Subscribe("inbox")

	data := json.RawMessage(`{"id":7}`)
	before := time.Now()
	if err := l.Publish(context.Background(), Event{Type: "case.updated", Topics: []string{"case:1"}, Data: data}); err != nil {
		t.Fatal(err)
	}
	e := recv(t, case1)
	if e.Type != "case.updated" || string(e.Data) != `{"id":7}` || e.Node != l.node || e.Node == "" {
		t.Fatalf("got %+v", e)
	}
	if e.At.Before(before.Add(-time.Second)) || e.At.Location() != time.UTC {
		t.Fatalf("At = %v, want now in UTC", e.At)
	}
	none(t, case2, 20*time.Millisecond)
	none(t, inbox, 0)

	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := l.Publish(context.Background(), Event{Type: "interaction.created", Topics: []string{"inbox"}, At: at}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, inbox); !e.At.Equal(at) {
		t.Fatalf("At = %v, want the publisher's %v", e.At, at)
	}
	none(t, case1, 20*time.Millisecond)
	none(t, case2, 0)

	// An event without topics reaches nobody.
	publish(t, l, "nothing")
	none(t, case1, 20*time.Millisecond)
}

func TestLocalPublishValidates(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	if err := l.Publish(context.Background(), Event{Topics: []string{"x"}}); err == nil {
		t.Error("event without type: no error")
	}
	if err := l.Publish(context.Background(), Event{Type: "t", Topics: []string{"x"}, Data: json.RawMessage(`{`)}); err == nil {
		t.Error("invalid JSON data: no error")
	}
}

func TestLocalPublisherMayReuseSlices(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	s := l.Subscribe("a")
	topics := []string{"a"}
	data := []byte(`"x"`)
	publish(t, l, "t", topics...)
	if err := l.Publish(context.Background(), Event{Type: "t", Topics: topics, Data: data}); err != nil {
		t.Fatal(err)
	}
	topics[0] = "changed"
	data[1] = 'y'
	recv(t, s)
	if e := recv(t, s); e.Topics[0] != "a" || string(e.Data) != `"x"` {
		t.Fatalf("event changed with the publisher's slices: %+v", e)
	}
}

func TestLocalMultiTopicOnce(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	both := l.Subscribe("case:1", "customer:45")
	dup := l.Subscribe("inbox", "inbox")
	customer := l.Subscribe("customer:45")
	other := l.Subscribe("case:2")

	publish(t, l, "interaction.created", "case:1", "customer:45", "inbox", "case:1", "inbox")
	for name, s := range map[string]*Subscription{"both": both, "dup": dup, "customer": customer} {
		if e := recv(t, s); e.Type != "interaction.created" {
			t.Fatalf("%s: got %+v", name, e)
		}
		none(t, s, 20*time.Millisecond)
	}
	none(t, other, 0)

	// Order of topics does not matter.
	publish(t, l, "again", "customer:45", "case:1")
	recv(t, both)
	none(t, both, 20*time.Millisecond)
}

func TestLocalSlowSubscriberLags(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	slow := l.Subscribe("inbox")
	fast := l.Subscribe("inbox")

	const batches, perBatch = 10, defaultBuffer // a fast reader keeps up with one buffer at a time
	for b := range batches {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range perBatch {
				publish(t, l, fmt.Sprintf("e%d", b*perBatch+i), "inbox")
			}
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("publisher blocked by a slow subscriber")
		}
		for i := range perBatch {
			if e := recv(t, fast); e.Type != fmt.Sprintf("e%d", b*perBatch+i) {
				t.Fatalf("fast subscriber: got %s, want e%d", e.Type, b*perBatch+i)
			}
		}
	}
	if fast.Lagged() {
		t.Error("fast subscriber lagged")
	}
	if !slow.Lagged() {
		t.Fatal("slow subscriber not lagged")
	}
	// The slow subscriber gets what fitted in its buffer, in order, then the
	// lagged marker, then nothing more.
	for i := range defaultBuffer {
		if e := recv(t, slow); e.Type != fmt.Sprintf("e%d", i) {
			t.Fatalf("slow subscriber: got %s, want e%d", e.Type, i)
		}
	}
	if e := recv(t, slow); e.Type != TypeLagged {
		t.Fatalf("got %+v, want the lagged marker", e)
	}
	publish(t, l, "later", "inbox")
	none(t, slow, 20*time.Millisecond)
	recv(t, fast)
}

func TestLocalSet(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	s := l.Subscribe("case:1")
	publish(t, l, "one", "case:1")
	s.Set("case:2", "user:7")
	if e := recv(t, s); e.Type != "one" {
		t.Fatalf("buffered event lost by Set: %+v", e)
	}
	publish(t, l, "old", "case:1")
	none(t, s, 20*time.Millisecond)
	publish(t, l, "new", "case:2")
	publish(t, l, "user", "user:7")
	if e := recv(t, s); e.Type != "new" {
		t.Fatalf("got %+v", e)
	}
	if e := recv(t, s); e.Type != "user" {
		t.Fatalf("got %+v", e)
	}
	// Keeping a topic across Set.
	s.Set("user:7")
	publish(t, l, "user2", "user:7", "case:2")
	if e := recv(t, s); e.Type != "user2" {
		t.Fatalf("got %+v", e)
	}
	none(t, s, 20*time.Millisecond)

	s.Set()
	publish(t, l, "user3", "user:7")
	none(t, s, 20*time.Millisecond)
	if n := len(l.topics); n != 0 {
		t.Errorf("index holds %d topics after Set(), want 0", n)
	}

	// A subscription may start without topics.
	later := l.Subscribe()
	later.Set("inbox")
	publish(t, l, "in", "inbox")
	recv(t, later)

	s.Close()
	s.Set("inbox") // no effect, no panic
	publish(t, l, "in2", "inbox")
	recv(t, later)
	closedChan(t, s)
}

func TestLocalClose(t *testing.T) {
	before := runtime.NumGoroutine()
	l := NewLocal()
	a := l.Subscribe("case:1", "inbox")
	b := l.Subscribe("case:1")
	publish(t, l, "x", "case:1")

	a.Close()
	a.Close() // twice is fine
	// Buffered events stay readable, then the channel is closed.
	if e := recv(t, a); e.Type != "x" {
		t.Fatalf("got %+v", e)
	}
	closedChan(t, a)
	if a.Lagged() {
		t.Error("closed subscription reports lagged")
	}
	publish(t, l, "y", "case:1", "inbox")
	recv(t, b)
	recv(t, b)

	l.mu.RLock()
	if _, ok := l.topics["inbox"]; ok {
		t.Error("closed subscription's topic still in the index")
	}
	if n := len(l.subs); n != 1 {
		t.Errorf("%d subscriptions registered, want 1", n)
	}
	l.mu.RUnlock()

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	closedChan(t, b)
	b.Close() // after the bus closed it
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Publish(context.Background(), Event{Type: "z", Topics: []string{"case:1"}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
	c := l.Subscribe("case:1")
	closedChan(t, c)
	c.Set("inbox")
	c.Close()
	noLeak(t, before)
}

func TestLocalConcurrent(t *testing.T) {
	before := runtime.NumGoroutine()
	l := NewLocal()
	topics := []string{"inbox", "case:1", "case:2", "case:3", "customer:1", "user:1"}
	var wg sync.WaitGroup
	var received atomic.Int64
	stop := make(chan struct{})

	// Subscribers that read, navigate and come and go.
	for i := range 50 {
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				s := l.Subscribe(topics[i%len(topics)], topics[(i+j)%len(topics)])
				for k := range 20 {
					select {
					case _, ok := <-s.C():
						if !ok {
							return
						}
						received.Add(1)
					case <-time.After(time.Millisecond):
					}
					if k == 10 {
						s.Set(topics[(i+j+k)%len(topics)])
					}
					_ = s.Lagged()
				}
				s.Close()
			}
		})
	}
	// Subscribers that never read.
	for i := range 10 {
		l.Subscribe(topics[i%len(topics)])
	}
	// Publishers.
	var pubs sync.WaitGroup
	for i := range 8 {
		pubs.Go(func() {
			for j := range 2000 {
				e := Event{Type: "t", Topics: []string{topics[(i+j)%len(topics)], topics[(i+2*j)%len(topics)]}}
				if err := l.Publish(context.Background(), e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	pubs.Wait()
	close(stop)
	wg.Wait()
	if received.Load() == 0 {
		t.Error("no event received")
	}
	// Closing the bus while publishers and subscribers still run.
	for range 4 {
		wg.Go(func() {
			for {
				if err := l.Publish(context.Background(), Event{Type: "t", Topics: topics}); errors.Is(err, ErrClosed) {
					return
				}
			}
		})
		wg.Go(func() {
			s := l.Subscribe(topics...)
			for range s.C() {
			}
			s.Close()
		})
	}
	time.Sleep(10 * time.Millisecond)
	l.Close()
	wg.Wait()
	noLeak(t, before)
}

// TestLocalFanout5000 checks the goal: one event reaches 5,000 subscribers of
// one topic within a second.
func TestLocalFanout5000(t *testing.T) {
	l := NewLocal()
	defer l.Close()
	const n = 5000
	var got sync.WaitGroup
	for range n {
		s := l.Subscribe("inbox")
		got.Add(1)
		go func() {
			e, ok := <-s.C()
			if ok && e.Type == "interaction.created" {
				got.Done()
			}
		}()
	}
	start := time.Now()
	publish(t, l, "interaction.created", "inbox", "case:1")
	got.Wait()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("event reached %d subscribers in %v, want under 1s", n, d)
	} else {
		t.Logf("event reached %d subscribers in %v", n, d)
	}
}

// BenchmarkFanout5000 measures the time for one event to reach all of 5,000
// subscribers of one topic, each read by its own goroutine (as SSE handlers
// do): ns/op is publish-to-last-delivery.
func BenchmarkFanout5000(b *testing.B) {
	l := NewLocal()
	const n = 5000
	var got sync.WaitGroup
	var readers sync.WaitGroup
	for range n {
		s := l.Subscribe("inbox")
		readers.Go(func() {
			for range s.C() {
				got.Done()
			}
		})
	}
	// Other subscribers that must cost nothing to this event.
	for i := range n {
		l.Subscribe(fmt.Sprintf("case:%d", i))
	}
	e := Event{Type: "interaction.created", Topics: []string{"inbox"}, Data: json.RawMessage(`{"case":1}`)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got.Add(n)
		if err := l.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
		got.Wait()
	}
	b.StopTimer()
	l.Close()
	readers.Wait()
}
