package bus

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const envPostgres = "TOUCHPOINT_TEST_POSTGRES"

// pgURL returns the test database, skipping the test when there is none.
func pgURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv(envPostgres)
	if url == "" {
		t.Skip(envPostgres + " is not set")
	}
	return url
}

// testChannel returns a channel name of its own for one test, so that tests
// of other packages and runs on the same database do not see its events.
func testOptions() pgOptions {
	return pgOptions{channel: "touchpoint_events_test_" + newNodeID(), idle: idleCheck}
}

// testLog writes the bus's log to the test output.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// twoNodes returns two buses on one database and channel, like two nodes.
func twoNodes(t *testing.T) (a, b *Postgres) {
	t.Helper()
	url := pgURL(t)
	opt := testOptions()
	ctx := context.Background()
	a, err := newPostgres(ctx, url, testLog(t).With("bus", "a"), opt)
	if err != nil {
		t.Fatal(err)
	}
	b, err = newPostgres(ctx, url, testLog(t).With("bus", "b"), opt)
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	return a, b
}

func TestPostgresTwoNodes(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := twoNodes(t)
	if a.local.node == b.local.node {
		t.Fatal("two buses share a node id")
	}
	onA := a.Subscribe("case:1")
	onB := b.Subscribe("case:1", "customer:45")
	otherB := b.Subscribe("case:2")

	ctx := context.Background()
	data := json.RawMessage(`{"interaction":42}`)
	if err := a.Publish(ctx, Event{Type: "interaction.created", Topics: []string{"case:1", "customer:45"}, Data: data}); err != nil {
		t.Fatal(err)
	}
	e := recv(t, onB)
	if e.Type != "interaction.created" || e.Node != a.local.node || string(e.Data) != string(data) || e.Truncated || e.At.IsZero() {
		t.Fatalf("on the other node: got %+v", e)
	}
	if len(e.Topics) != 2 {
		t.Fatalf("topics = %v", e.Topics)
	}
	e = recv(t, onA)
	if e.Type != "interaction.created" || e.Node != a.local.node {
		t.Fatalf("on the publishing node: got %+v", e)
	}

	// And back the other way; by the time it arrives, a's own notification
	// of the first event came back to a too, and must have been skipped.
	if err := b.Publish(ctx, Event{Type: "case.updated", Topics: []string{"case:1"}}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, onB); e.Type != "case.updated" {
		t.Fatalf("got %+v", e)
	}
	if e := recv(t, onA); e.Type != "case.updated" || e.Node != b.local.node {
		t.Fatalf("got %+v, want b's event (a's own event delivered twice?)", e)
	}
	none(t, onA, 300*time.Millisecond)
	none(t, onB, 0)
	none(t, otherB, 0)

	// Events without topics do not go to the database.
	publish(t, a, "nothing")

	a.Close()
	b.Close()
	a.Close()
	closedChan(t, onA)
	closedChan(t, onB)
	if err := a.Publish(ctx, Event{Type: "x", Topics: []string{"case:1"}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("publish after Close: %v, want ErrClosed", err)
	}
	noLeak(t, before)
}

func TestPostgresOversize(t *testing.T) {
	a, b := twoNodes(t)
	defer a.Close()
	defer b.Close()
	onA := a.Subscribe("case:1")
	onB := b.Subscribe("case:1")

	big, err := json.Marshal(map[string]string{"body": strings.Repeat("é", 5000)}) // 10,000 bytes
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Publish(ctx, Event{Type: "interaction.created", Topics: []string{"case:1"}, Data: big}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, onA); e.Truncated || string(e.Data) != string(big) {
		t.Fatalf("local subscriber: truncated=%v, %d bytes of data; want all of it", e.Truncated, len(e.Data))
	}
	if e := recv(t, onB); !e.Truncated || e.Data != nil || e.Type != "interaction.created" || e.Node != a.local.node {
		t.Fatalf("remote subscriber: got %+v, want the event truncated", e)
	}

	// Just under the limit goes through whole.
	fit := Event{Type: "t", Topics: []string{"case:1"}, At: time.Now().UTC(), Node: a.local.node}
	head, err := json.Marshal(fit)
	if err != nil {
		t.Fatal(err)
	}
	fit.Data = json.RawMessage(`"` + strings.Repeat("x", maxPayload-len(head)-len(`,"data":""`)) + `"`)
	if p, err := encodePayload(fit); err != nil || len(p) != maxPayload {
		t.Fatalf("encodePayload: %d bytes, %v; want %d", len(p), err, maxPayload)
	}
	if err := a.Publish(ctx, fit); err != nil {
		t.Fatal(err)
	}
	recv(t, onA)
	if e := recv(t, onB); e.Truncated || len(e.Data) != len(fit.Data) {
		t.Fatalf("remote subscriber: truncated=%v, %d bytes; want %d bytes", e.Truncated, len(e.Data), len(fit.Data))
	}

	// Too large even without data: an error, but local delivery happened.
	topics := make([]string, 1000)
	for i := range topics {
		topics[i] = "customer:1234567890"
	}
	topics[0] = "case:1"
	if err := a.Publish(ctx, Event{Type: "huge", Topics: topics}); err == nil {
		t.Fatal("event too large without data: no error")
	}
	if e := recv(t, onA); e.Type != "huge" {
		t.Fatalf("got %+v", e)
	}
	none(t, onB, 300*time.Millisecond)
}

func TestPostgresReconnect(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := twoNodes(t)
	ctx := context.Background()
	old := b.Subscribe("case:1")
	pid := b.pid.Load()
	if pid == 0 {
		t.Fatal("no listener pid")
	}

	var killed bool
	if err := a.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", int32(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener %d: %v, %v", pid, killed, err)
	}
	// Local delivery does not depend on the listener.
	publish(t, b, "local", "case:1")
	if e := recv(t, old); e.Type != "local" {
		t.Fatalf("got %+v", e)
	}

	deadline := time.Now().Add(10 * time.Second)
	for b.connects.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("listener did not reconnect within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if b.pid.Load() == pid {
		t.Fatal("same backend pid after reconnect")
	}
	// Events may have been lost while b was not listening: its pages reload.
	if e := recv(t, old); e.Type != TypeLagged || !old.Lagged() {
		t.Fatalf("got %+v, want the lagged marker", e)
	}

	fresh := b.Subscribe("case:1")
	onA := a.Subscribe("case:1")
	publish(t, a, "after", "case:1")
	if e := recv(t, fresh); e.Type != "after" || e.Node != a.local.node {
		t.Fatalf("after reconnect: got %+v", e)
	}
	recv(t, onA)
	none(t, onA, 200*time.Millisecond)

	a.Close()
	b.Close()
	noLeak(t, before)
}

func TestPostgresReconnectRepeatedly(t *testing.T) {
	url := pgURL(t)
	// A connection of its own to kill the listener with, again and again.
	admin, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())

	p, err := newPostgres(context.Background(), url, testLog(t), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range 3 {
		pid := p.pid.Load()
		if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for p.connects.Load() < int64(i+2) {
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: no reconnect within 10s", i+1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	s := p.Subscribe("x")
	publish(t, p, "ok", "x")
	recv(t, s)
}

// TestPostgresIdleCheck runs the listener through many idle timeouts and
// pings, and checks that it still receives afterwards on the same connection.
func TestPostgresIdleCheck(t *testing.T) {
	url := pgURL(t)
	opt := testOptions()
	opt.idle = 20 * time.Millisecond
	ctx := context.Background()
	a, err := newPostgres(ctx, url, testLog(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := newPostgres(ctx, url, testLog(t), opt)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	onB := b.Subscribe("x")
	time.Sleep(300 * time.Millisecond)
	for i := range 5 {
		publish(t, a, "after idle", "x")
		if e := recv(t, onB); e.Type != "after idle" {
			t.Fatalf("got %+v", e)
		}
		time.Sleep(time.Duration(i) * 15 * time.Millisecond)
	}
	if n := b.connects.Load(); n != 1 {
		t.Fatalf("listener connected %d times, want 1", n)
	}
	if onB.Lagged() {
		t.Fatal("lagged without a reconnect")
	}
}

func TestNewPostgresFails(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := NewPostgres(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", nil); err == nil {
		t.Fatal("no error for an unreachable database")
	}
	if _, err := NewPostgres(ctx, "::not a url", nil); err == nil {
		t.Fatal("no error for a bad url")
	}
	noLeak(t, before)
}

// Events published together reach the other node in the order given, once.
func TestPostgresPublishAllKeepsOrder(t *testing.T) {
	a, b := twoNodes(t)
	defer a.Close()
	defer b.Close()
	onA := a.Subscribe("routing")
	onB := b.Subscribe("routing")
	var es []Event
	for i := range 12 {
		es = append(es, Event{Type: "routing.offer_made", Topics: []string{"routing"}, Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
	}
	if err := a.PublishAll(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []*Subscription{onA, onB} {
		for i := range 12 {
			e := recv(t, sub)
			if string(e.Data) != `{"n":`+strconv.Itoa(i)+`}` || e.Node != a.local.node {
				t.Fatalf("event %d: got %s from %s", i, e.Data, e.Node)
			}
		}
		none(t, sub, 200*time.Millisecond)
	}
}

// Two installations in two schemas of one database have buses of their
// own: a router once took the other's routing commands for its own.
func TestPostgresSchemasApart(t *testing.T) {
	base := pgURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	in := func(schema string) string {
		t.Helper()
		if _, err := admin.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()) })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}
	suffix := newNodeID()
	one, two := in("bus_one_"+suffix), in("bus_two_"+suffix)
	open := func(url string) *Postgres {
		t.Helper()
		p, err := NewPostgres(ctx, url, testLog(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	a, sameAsA, b := open(one), open(one), open(two)
	if a.channel == b.channel || a.channel != sameAsA.channel || !strings.HasSuffix(a.channel, "bus_one_"+suffix) {
		t.Fatalf("channels %q, %q and %q", a.channel, sameAsA.channel, b.channel)
	}
	onSame, onB := sameAsA.Subscribe("routing"), b.Subscribe("routing")
	if err := a.Publish(ctx, Event{Type: "routing.command", Topics: []string{"routing"}}); err != nil {
		t.Fatal(err)
	}
	if e := recv(t, onSame); e.Type != "routing.command" {
		t.Fatalf("the node of the same schema got %+v", e)
	}
	none(t, onB, 300*time.Millisecond)
	if got := schemaChannel(defaultChannel, strings.Repeat("x", 80)); len(got) > 63 {
		t.Errorf("a long schema gives channel %q of %d bytes; PostgreSQL keeps 63", got, len(got))
	}
	if got := schemaChannel(defaultChannel, "public"); got != defaultChannel {
		t.Errorf("the public schema's channel is %q", got)
	}
}
