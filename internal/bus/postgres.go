package bus

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// defaultChannel is the NOTIFY channel shared by all nodes of one database
	// schema (see schemaChannel).
	defaultChannel = "touchpoint_events"

	// maxPayload is the largest NOTIFY payload PostgreSQL accepts: it must be
	// shorter than 8000 bytes.
	maxPayload = 7999

	// publishConns bounds the pool that sends NOTIFY: each send is one short
	// statement, and the pool must not take connections from the store.
	publishConns = 4

	// idleCheck is how long the listener waits for a notification before it
	// pings its connection: a peer that vanished without closing the TCP
	// connection would otherwise leave it waiting forever, deaf to other nodes.
	idleCheck = 30 * time.Second

	connectTimeout = 10 * time.Second
	minBackoff     = 100 * time.Millisecond
	maxBackoff     = 10 * time.Second
)

// Postgres is a bus shared by every node on one PostgreSQL database through
// LISTEN/NOTIFY. It is safe for concurrent use.
//
// An event is delivered to this node's subscribers at once on Publish and
// sent to the other nodes with pg_notify; when its own notification comes
// back it is skipped. Events from other nodes reach local subscribers in the
// order the database delivers them.
//
// PostgreSQL delivers a NOTIFY sent inside a transaction only when that
// transaction commits, and drops it on rollback. This bus sends each
// notification on its own pool connection, outside any transaction and at
// once: publish after the change the event announces is committed, so that a
// subscriber re-reading it sees it.
//
// A payload must be shorter than 8000 bytes: a larger event is sent without
// its Data and with Truncated set; the local subscribers still get Data.
//
// One dedicated connection listens. If it is lost, the bus reconnects with
// backoff; notifications sent in between are lost, so every subscription of
// this node is then marked lagged (their pages reload).
type Postgres struct {
	local   *Local
	channel string
	idle    time.Duration // see idleCheck
	connCfg *pgx.ConnConfig
	pool    *pgxpool.Pool
	log     *slog.Logger

	cancel    context.CancelFunc
	done      chan struct{} // closed when the listener goroutine returns
	closeOnce sync.Once
	closed    atomic.Bool

	// For tests: the backend pid of the listening connection and how many
	// times it was (re)established.
	pid      atomic.Uint32
	connects atomic.Int64
}

// NewPostgres connects to the database at url and starts listening. ctx
// bounds the first connection only; the bus runs until Close. log may be nil.
func NewPostgres(ctx context.Context, url string, log *slog.Logger) (*Postgres, error) {
	return newPostgres(ctx, url, log, pgOptions{channel: defaultChannel, idle: idleCheck, perSchema: true})
}

// schemaChannel is the channel of the nodes whose store is in schema: NOTIFY
// channels belong to the database, and two installations (or test runs) in
// two schemas of one database must not hear each other (a router took the
// other's commands for its own). The public schema keeps the plain name.
func schemaChannel(base, schema string) string {
	if schema == "" || schema == "public" {
		return base
	}
	ch := base + "." + schema
	if len(ch) > 63 { // longer identifiers are truncated by PostgreSQL
		sum := sha256.Sum256([]byte(schema))
		ch = base + "." + hex.EncodeToString(sum[:12])
	}
	return ch
}

// pgOptions are the settings tests change: a channel of their own, so that
// tests sharing a database do not see each other's events, and a short idle
// check.
type pgOptions struct {
	channel string
	idle    time.Duration
	// perSchema appends the connection's schema to the channel.
	perSchema bool
}

func newPostgres(ctx context.Context, url string, log *slog.Logger, opt pgOptions) (*Postgres, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	connCfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("bus: parse database url: %w", err)
	}
	if connCfg.RuntimeParams["application_name"] == "" {
		// Lets operators find the listener in pg_stat_activity.
		connCfg.RuntimeParams["application_name"] = "touchpoint-bus"
	}
	poolCfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("bus: parse database url: %w", err)
	}
	poolCfg.MaxConns = publishConns
	poolCfg.MinConns = 0
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("bus: open publish pool: %w", err)
	}
	if opt.perSchema {
		var schema string
		if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			pool.Close()
			return nil, fmt.Errorf("bus: reading the schema: %w", err)
		}
		opt.channel = schemaChannel(opt.channel, schema)
	}

	local := NewLocal()
	p := &Postgres{
		local:   local,
		channel: opt.channel,
		idle:    opt.idle,
		connCfg: connCfg,
		pool:    pool,
		log:     log.With("node", local.node, "channel", opt.channel),
		done:    make(chan struct{}),
	}
	// Listen before returning, so that an event published by another node
	// after NewPostgres returns is not missed, and a wrong url fails here.
	conn, err := p.connect(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.listen(runCtx, conn)
	return p, nil
}

// Publish delivers e to this node's subscribers at once and sends it to the
// other nodes. It does not wait for any subscriber, only for the NOTIFY
// statement; an error means the other nodes may not have received the event.
func (p *Postgres) Publish(ctx context.Context, e Event) error {
	if p.closed.Load() {
		return ErrClosed
	}
	e, err := prepare(e, p.local.node)
	if err != nil {
		return err
	}
	p.local.deliver(e)
	if len(e.Topics) == 0 {
		return nil
	}
	payload, err := encodePayload(e)
	if err != nil {
		return err
	}
	if _, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", p.channel, payload); err != nil {
		return fmt.Errorf("bus: notify %s: %w", e.Type, err)
	}
	return nil
}

// PublishAll delivers the events to this node's subscribers in order and
// sends them to the other nodes in one statement, which PostgreSQL
// delivers in the same order.
func (p *Postgres) PublishAll(ctx context.Context, es []Event) error {
	if p.closed.Load() {
		return ErrClosed
	}
	payloads := make([]string, 0, len(es))
	for _, e := range es {
		e, err := prepare(e, p.local.node)
		if err != nil {
			return err
		}
		p.local.deliver(e)
		if len(e.Topics) == 0 {
			continue
		}
		payload, err := encodePayload(e)
		if err != nil {
			return err
		}
		payloads = append(payloads, payload)
	}
	if len(payloads) == 0 {
		return nil
	}
	if _, err := p.pool.Exec(ctx, "SELECT pg_notify($1, x) FROM unnest($2::text[]) AS x", p.channel, payloads); err != nil {
		return fmt.Errorf("bus: notify %d events: %w", len(payloads), err)
	}
	return nil
}

// Node is the id this node stamps on the events it publishes.
func (p *Postgres) Node() string { return p.local.node }

// Subscribe returns a subscription to topics, fed by events of every node.
func (p *Postgres) Subscribe(topics ...string) *Subscription {
	return p.local.Subscribe(topics...)
}

// Close stops listening, closes the connections and every subscription.
func (p *Postgres) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.cancel()
		<-p.done
		p.pool.Close()
		p.local.Close()
	})
	return nil
}

// encodePayload returns e as a NOTIFY payload, without Data if it does not fit.
func encodePayload(e Event) (string, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("bus: encode %s: %w", e.Type, err)
	}
	if len(b) <= maxPayload {
		return string(b), nil
	}
	e.Data = nil
	e.Truncated = true
	b, err = json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("bus: encode %s: %w", e.Type, err)
	}
	if len(b) > maxPayload {
		return "", fmt.Errorf("bus: event %s is %d bytes without its data, over the %d bytes of a NOTIFY payload", e.Type, len(b), maxPayload)
	}
	return string(b), nil
}

// connect opens the listening connection and runs LISTEN on it.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, p.connCfg)
	if err != nil {
		return nil, fmt.Errorf("bus: connect listener: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, fmt.Errorf("bus: listen on %s: %w", p.channel, err)
	}
	p.pid.Store(conn.PgConn().PID())
	p.connects.Add(1)
	return conn, nil
}

// listen receives notifications until ctx is done, reconnecting whenever the
// connection is lost.
func (p *Postgres) listen(ctx context.Context, conn *pgx.Conn) {
	defer close(p.done)
	for {
		err := p.receive(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("bus: lost the listening connection; reconnecting", "err", err)
		if conn = p.reconnect(ctx); conn == nil {
			return
		}
		// Notifications sent while nobody listened are gone: tell the pages.
		p.local.lagAll()
	}
}

// receive delivers notifications from conn until it fails or ctx is done.
func (p *Postgres) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, p.idle)
		n, err := conn.WaitForNotification(wctx)
		idle := wctx.Err() != nil
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && idle && !conn.IsClosed():
			// A timeout leaves a pgx connection usable; check it still works.
			pctx, cancel := context.WithTimeout(ctx, connectTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
		case err != nil:
			return err
		case n != nil:
			p.handle(n.Payload)
		}
	}
}

// handle delivers one notification to the local subscribers, unless it is
// this node's own event, which Publish delivered already.
func (p *Postgres) handle(payload string) {
	var e Event
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		p.log.Warn("bus: dropping a notification that is not an event", "err", err, "bytes", len(payload))
		return
	}
	if e.Node == p.local.node {
		return
	}
	p.local.deliver(e)
}

// reconnect connects again with exponential backoff and jitter (so that all
// nodes do not hit a restarted database at once). It returns nil when ctx is
// done.
func (p *Postgres) reconnect(ctx context.Context) *pgx.Conn {
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := p.connect(ctx)
		if err == nil {
			p.log.Info("bus: listening again", "attempt", attempt)
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
		p.log.Warn("bus: reconnect failed", "attempt", attempt, "backoff", backoff, "err", err)
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx) // the connection is discarded either way
}
