// Package routing runs the routing decision engine (internal/routing/engine)
// for a node and keeps it in the store.
//
// One [Service] holds one engine behind a mutex. Every command runs the
// engine call and writes what it changed in ONE store transaction: the
// affected routing_queues, routing_agents and work_items rows, and one
// routing_events row per engine event (the log the wallboard metrics are
// computed from). Only after the commit are the events published on the bus
// ("routing.<kind>" on the topics "routing", "queue:<id>" and "user:<agent>").
// When the transaction fails the engine is restored to the state of the last
// commit, so memory never runs ahead of the store: a work item whose Enqueue
// returned is in the store and survives a restart.
//
// The engine's rows (engine.State) are kept whole in the `engine` columns;
// the other columns are for queries. On the first command the service loads
// queues, agents and open work items and restores the engine from them.
//
// # One router per deployment
//
// With PostgreSQL several nodes share a store, and exactly one of them runs
// the engine (the router): the node holding a session advisory lock on a
// dedicated connection (see [Service.SetLockURL]). The other nodes hand
// their commands over through the routing_commands table and wait for the
// router's answer (nodes.go); reads of the stored rows work on every node.
// A node without the lock tries to take it at most every LockRetry, so when
// the router stops another node takes over, restores the engine from the
// store and runs the commands still pending. Taking over bumps an epoch that
// every write of the router checks (a fence), so a former router that lost
// its lock without noticing cannot write. SQLite is one node by
// construction.
package routing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/businesshours"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/worker"
)

// LockClass is the first key of the PostgreSQL advisory lock the routing
// node holds; the second is a hash of the schema, so that deployments (and
// tests) in separate schemas of one database have separate routers.
const LockClass int32 = 0x7470 // "tp"

// LockRetry is how often a node without the lock tries to take it.
const LockRetry = time.Second

// ErrOtherNode is returned by commands on a node that does not run routing.
var ErrOtherNode = errs.Conflictf("routing runs on another node")

// Service runs the engine of this node.
type Service struct {
	db  *store.DB
	bus bus.Bus
	log *slog.Logger
	cfg engine.Config

	// Now is the clock (tests replace it).
	Now func() time.Time

	mu      sync.Mutex // held while the engine runs and its changes are written
	gm      sync.Mutex // guards pending
	pending []*command
	eng     *engine.Engine
	// What the store holds as of the last commit: the queue and agent rows
	// (a write compares against them) and the queue of each open item.
	lastQueues map[string]engine.QueueState
	lastAgents map[string]engine.AgentState
	itemQueue  map[string]string
	started    bool
	lockURL    string
	lockDB     *sql.DB
	lockConn   *sql.Conn
	lockTry    time.Time
	epoch      int64 // routing_leader.epoch this node took over with
	// holdsLock is whether lockConn holds the lock, for readers that must
	// not wait for mu.
	holdsLock atomic.Bool

	// inflight holds the ids of other nodes' commands run here: the zero
	// time while running, then when they finished (see startCommand).
	inflight sync.Map

	writeHook      WriteHook
	calendarSource CalendarSource
	calendars      atomic.Pointer[map[string]*businesshours.Calendar]
	calendarsAt    atomic.Int64 // unix nanos of the last load

	// failWrite, when set, fails the next transactions (tests).
	failWrite func() error
}

// NewService returns a service over db; it loads its state on first use.
func NewService(db *store.DB, b bus.Bus, log *slog.Logger, cfg engine.Config) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, bus: b, log: log, cfg: cfg, Now: time.Now}
}

// SetLockURL makes the service take the PostgreSQL advisory lock through a
// connection of its own to url before it runs the engine. Call it before
// the first command; an empty url (SQLite) needs no lock.
func (s *Service) SetLockURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lockURL = url
}

// Close releases the lock (other nodes may then take over) and drops the
// engine from memory.
func (s *Service) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started, s.eng = false, nil
	s.releaseLock()
	return nil
}

// ensure takes the lock (PostgreSQL) and loads the engine; s.mu is held.
// A node that cannot take the lock gets errNotLeader.
func (s *Service) ensure(ctx context.Context) error {
	if s.started {
		return nil
	}
	if s.shared() && s.lockConn == nil {
		now := time.Now()
		if !s.lockTry.IsZero() && now.Sub(s.lockTry) < LockRetry {
			return errNotLeader
		}
		s.lockTry = now
		ok, err := s.takeLock(ctx)
		if err != nil {
			return fmt.Errorf("taking the routing lock: %w", err)
		}
		if !ok {
			return errNotLeader
		}
		epoch, err := s.takeOver(ctx)
		if err != nil {
			s.releaseLock()
			return fmt.Errorf("taking over routing: %w", err)
		}
		s.epoch = epoch
		s.holdsLock.Store(true)
		s.log.Info("routing: this node runs the router", "epoch", epoch)
	}
	if err := s.refreshCalendars(ctx); err != nil {
		return fmt.Errorf("loading business hours: %w", err)
	}
	st, err := s.load(ctx)
	if err != nil {
		return fmt.Errorf("loading routing state: %w", err)
	}
	for i := range st.Queues {
		st.Queues[i].Queue = s.withHours(st.Queues[i].Queue)
	}
	e := engine.New(s.cfg)
	if err := e.Restore(st); err != nil {
		return fmt.Errorf("restoring routing state: %w", err)
	}
	s.eng, s.started = e, true
	s.lastQueues, s.lastAgents, s.itemQueue = map[string]engine.QueueState{}, map[string]engine.AgentState{}, map[string]string{}
	s.remember(e.Snapshot(), nil)
	return nil
}

func (s *Service) takeLock(ctx context.Context) (bool, error) {
	if s.lockDB == nil {
		db, err := sql.Open("pgx", s.lockURL)
		if err != nil {
			return false, err
		}
		db.SetMaxOpenConns(1)
		s.lockDB = db
	}
	conn, err := s.lockDB.Conn(ctx)
	if err != nil {
		return false, err
	}
	var ok bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1, hashtext(current_schema()))", LockClass).Scan(&ok); err != nil {
		conn.Close()
		return false, err
	}
	if !ok {
		conn.Close()
		return false, nil
	}
	s.lockConn = conn
	return true, nil
}

// WriteHook runs inside each transaction that stores routing changes, with
// the events the changes made (outgoing webhooks use it).
type WriteHook func(ctx context.Context, tx *store.Tx, evs []engine.Event) error

// SetWriteHook installs the write hook (call before the first command).
func (s *Service) SetWriteHook(h WriteHook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writeHook = h
}

// ---- running a command ----

// extra is a command's own SQL in the transaction (before or after the
// engine's rows are written).
type extra func(ctx context.Context, tx *store.Tx) error

// command is one call waiting to run on the engine.
type command struct {
	ctx           context.Context
	persistAlways bool
	pre, post     extra
	op            func(e *engine.Engine, now time.Time) ([]engine.Event, error)
	done          chan commandResult
}

type commandResult struct {
	evs []engine.Event
	err error
}

// run applies op to the engine and stores what changed before returning
// (persistAlways is false for Tick: without events nothing needs writing).
// Calls that arrive while another group is being written wait and then go
// together: the first of them to get the engine runs them all and writes
// their changes in one transaction (group commit), so the store's round
// trips are shared instead of queueing one command behind another.
func (s *Service) run(ctx context.Context, persistAlways bool, pre, post extra, op func(e *engine.Engine, now time.Time) ([]engine.Event, error)) ([]engine.Event, error) {
	c := &command{ctx: ctx, persistAlways: persistAlways, pre: pre, post: post, op: op, done: make(chan commandResult, 1)}
	s.gm.Lock()
	s.pending = append(s.pending, c)
	s.gm.Unlock()
	s.mu.Lock()
	s.gm.Lock()
	group := s.pending
	s.pending = nil
	s.gm.Unlock()
	if len(group) > 0 {
		s.runGroup(group)
	}
	s.mu.Unlock()
	r := <-c.done
	return r.evs, r.err
}

// runGroup runs commands in arrival order and writes them in one
// transaction; if that fails, each runs again on its own, so that one bad
// command fails alone. s.mu is held.
func (s *Service) runGroup(group []*command) {
	results, err := s.apply(group)
	if err != nil && len(group) > 1 && !errors.Is(err, errNotLeader) {
		for _, c := range group {
			r, err := s.apply([]*command{c})
			if err != nil {
				r[0] = commandResult{nil, err}
			}
			c.done <- r[0]
		}
		return
	}
	for i, c := range group {
		if err != nil {
			results[i] = commandResult{nil, err}
		}
		c.done <- results[i]
	}
}

// apply runs the commands' ops on the engine and writes what they changed
// in one transaction, then publishes the events. A refused op writes
// nothing of its own (its result carries the refusal); err is the failure
// of the whole write, after which the engine is reloaded from the store on
// the next call, so memory never runs ahead of the store. s.mu is held.
func (s *Service) apply(group []*command) ([]commandResult, error) {
	results := make([]commandResult, len(group))
	if err := s.ensure(group[0].ctx); err != nil {
		return results, err
	}
	now := s.Now()
	var all []engine.Event
	var pres, posts []extra
	write := false
	for i, c := range group {
		evs, err := c.op(s.eng, now)
		results[i] = commandResult{evs, err}
		all = append(all, evs...)
		write = write || len(evs) > 0 || (err == nil && c.persistAlways)
		if err == nil {
			if c.pre != nil {
				pres = append(pres, c.pre)
			}
			if c.post != nil {
				posts = append(posts, c.post)
			}
		}
	}
	if !write {
		return results, nil
	}
	st := s.eng.SnapshotItems(touchedItems(all))
	var queues []string
	// The group's write must not fail because one caller went away.
	err := s.db.Write(context.WithoutCancel(group[0].ctx), func(ctx context.Context, tx *store.Tx) error {
		if err := s.fence(ctx, tx); err != nil {
			return err
		}
		if s.failWrite != nil {
			if err := s.failWrite(); err != nil {
				return err
			}
		}
		for _, pre := range pres {
			if err := pre(ctx, tx); err != nil {
				return err
			}
		}
		var err error
		if queues, err = s.writeChanges(ctx, tx, st, all, now); err != nil {
			return err
		}
		if s.writeHook != nil {
			if err := s.writeHook(ctx, tx, all); err != nil {
				return err
			}
		}
		for _, post := range posts {
			if err := post(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errFenced) {
			s.abdicate("another node took over")
			return results, errNotLeader
		}
		// The engine ran ahead of the store: rebuild it from the store.
		s.started, s.eng = false, nil
		return results, err
	}
	s.remember(st, all)
	s.publish(all, queues)
	return results, nil
}

// ---- commands ----

// QueueInput is a queue as an administrator sets it: a name and the engine's
// settings (its id is the queue's).
type QueueInput struct {
	Name string `json:"name"`
	engine.Queue
}

// Queue is a stored queue.
type Queue struct {
	ID   id.ID  `json:"id"`
	Name string `json:"name"`
	engine.Queue
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// UpsertQueue creates a queue (qid 0) or replaces one's settings.
func (s *Service) UpsertQueue(ctx context.Context, qid id.ID, in QueueInput) (*Queue, error) {
	if in.Name == "" || len(in.Name) > 100 {
		return nil, errs.Invalidf("name", "must be 1 to 100 characters")
	}
	if in.ID != "" {
		return nil, errs.Invalidf("id", "is given by the path or chosen by the server")
	}
	if qid == 0 {
		qid = s.db.IDs.New()
	} else if _, err := s.GetQueue(ctx, qid); err != nil {
		return nil, err
	}
	if err := s.do(ctx, &Command{Op: opUpsertQueue, QueueID: qid, Queue: &in}); err != nil {
		return nil, err
	}
	return s.GetQueue(ctx, qid)
}

func (s *Service) upsertQueue(ctx context.Context, qid id.ID, in QueueInput, done extra) error {
	q := in.Queue
	q.ID = qid.String()
	if err := s.checkCalendar(ctx, q.CalendarID); err != nil {
		return err
	}
	if q.MaxWaitQueueID != "" {
		if err := s.knownQueue(ctx, "max_wait_queue_id", q.MaxWaitQueueID); err != nil {
			return err
		}
	}
	for i, r := range q.Overflow {
		if r.QueueID != "" {
			if err := s.knownQueue(ctx, "overflow["+strconv.Itoa(i)+"].queue_id", r.QueueID); err != nil {
				return err
			}
		}
	}
	spec, _ := json.Marshal(q)
	pre := func(ctx context.Context, tx *store.Tx) error {
		now := s.Now().UnixMicro()
		_, err := tx.Exec(ctx, `INSERT INTO routing_queues (id, name, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, spec = excluded.spec, updated_at = excluded.updated_at`,
			int64(qid), in.Name, string(spec), now, now)
		if store.IsUniqueViolation(err) {
			return errs.Invalidf("name", "a queue named %q exists", in.Name)
		}
		return err
	}
	q = s.withHours(q)
	_, err := s.run(ctx, true, pre, done, func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
		return e.UpsertQueue(q, now)
	})
	return err
}

// knownQueue checks that the engine has queue qid (field names the input).
func (s *Service) knownQueue(ctx context.Context, field, qid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(ctx); err != nil {
		return err
	}
	if _, ok := s.eng.Queue(qid); !ok {
		return errs.Invalidf(field, "unknown queue %q", qid)
	}
	return nil
}

// AgentProfile is what routing knows of an agent besides presence.
type AgentProfile struct {
	Skills   map[string]int         `json:"skills"`
	Capacity map[engine.Channel]int `json:"capacity"`
	Queues   []id.ID                `json:"queues"`
}

// Agent is an agent's routing row.
type Agent struct {
	UserID id.ID `json:"user_id"`
	AgentProfile
	Presence       engine.Presence `json:"presence"`
	PresenceReason string          `json:"presence_reason,omitempty"`
	PresenceSince  time.Time       `json:"presence_since"`
}

// SetAgentProfile adds a user as an agent (Offline) or changes their
// skills, capacity and queues.
func (s *Service) SetAgentProfile(ctx context.Context, userID id.ID, p AgentProfile) (*Agent, error) {
	if err := s.do(ctx, &Command{Op: opAgentProfile, UserID: userID, Profile: &p}); err != nil {
		return nil, err
	}
	return s.GetAgent(ctx, userID)
}

func (s *Service) setAgentProfile(ctx context.Context, userID id.ID, p AgentProfile, done extra) error {
	a := engine.Agent{ID: userID.String(), Skills: p.Skills, Capacity: p.Capacity}
	for i, q := range p.Queues {
		if err := s.knownQueue(ctx, "queues["+strconv.Itoa(i)+"]", q.String()); err != nil {
			return err
		}
		a.Queues = append(a.Queues, q.String())
	}
	pre := func(ctx context.Context, tx *store.Tx) error {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM users WHERE id = ?", int64(userID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("user %s", userID)
		}
		return err
	}
	_, err := s.run(ctx, true, pre, done, func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
		return e.UpsertAgent(a, now)
	})
	return err
}

// SetPresence sets an agent's presence (available, acw, away, offline).
func (s *Service) SetPresence(ctx context.Context, userID id.ID, p engine.Presence, reason string) (*Agent, error) {
	if len(reason) > 200 {
		return nil, errs.Invalidf("reason", "must be at most 200 characters")
	}
	if err := s.do(ctx, &Command{Op: opPresence, UserID: userID, Presence: p, Reason: reason}); err != nil {
		return nil, err
	}
	return s.GetAgent(ctx, userID)
}

// NewItem is a work item to route.
type NewItem struct {
	QueueID          id.ID          `json:"queue_id"`
	Channel          engine.Channel `json:"channel"`
	Priority         int            `json:"priority"`
	Skills           map[string]int `json:"skills"`
	CustomerID       id.ID          `json:"customer_id,omitempty"`
	CaseID           id.ID          `json:"case_id,omitempty"`
	InteractionID    id.ID          `json:"interaction_id,omitempty"`
	PreferredAgentID id.ID          `json:"preferred_agent_id,omitempty"`
}

// Enqueue adds a work item; it is stored (and maybe already offered) when
// Enqueue returns.
func (s *Service) Enqueue(ctx context.Context, in NewItem) (*WorkItem, error) {
	if in.QueueID == 0 {
		return nil, errs.Invalidf("queue_id", "required")
	}
	iid := s.db.IDs.New()
	if err := s.do(ctx, &Command{Op: opEnqueue, ItemID: iid, Item: &in}); err != nil {
		return nil, err
	}
	return s.GetItem(ctx, iid)
}

func (s *Service) enqueue(ctx context.Context, iid id.ID, in NewItem, done extra) error {
	w := engine.WorkItem{ID: iid.String(), QueueID: in.QueueID.String(), Channel: in.Channel, Priority: in.Priority, Skills: in.Skills}
	if in.CustomerID != 0 {
		w.CustomerID = in.CustomerID.String()
	}
	if in.PreferredAgentID != 0 {
		w.PreferredAgentID = in.PreferredAgentID.String()
	}
	post := func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE work_items SET case_id = ?, interaction_id = ?, preferred_agent_id = ? WHERE id = ?",
			nullID(in.CaseID), nullID(in.InteractionID), nullID(in.PreferredAgentID), int64(iid))
		return err
	}
	_, err := s.run(ctx, true, nil, both(post, done), func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
		return e.Enqueue(w, now)
	})
	return err
}

// Accept takes the offer of item to agent.
func (s *Service) Accept(ctx context.Context, item, agent id.ID) (*WorkItem, error) {
	return s.itemCmd(ctx, &Command{Op: opAccept, ItemID: item, UserID: agent})
}

// Decline refuses the offer of item to agent.
func (s *Service) Decline(ctx context.Context, item, agent id.ID) (*WorkItem, error) {
	return s.itemCmd(ctx, &Command{Op: opDecline, ItemID: item, UserID: agent})
}

// Complete ends the agent's work on item.
func (s *Service) Complete(ctx context.Context, item, agent id.ID) (*WorkItem, error) {
	return s.CompleteWith(ctx, item, agent, "")
}

// Dispositions are the codes an agent may give a finished contact.
var Dispositions = []string{"resolved", "follow_up", "callback_scheduled", "escalated", "no_answer", "wrong_queue", "spam"}

// CompleteWith ends the agent's work on item with a disposition code (""
// for none), stored on the item in the same transaction.
func (s *Service) CompleteWith(ctx context.Context, item, agent id.ID, disposition string) (*WorkItem, error) {
	if disposition != "" && !slices.Contains(Dispositions, disposition) {
		return nil, errs.Invalidf("disposition", "must be one of %v", Dispositions)
	}
	return s.itemCmd(ctx, &Command{Op: opComplete, ItemID: item, UserID: agent, Disposition: disposition})
}

// Abandon removes an item whose customer left (waiting or offered).
func (s *Service) Abandon(ctx context.Context, item id.ID) (*WorkItem, error) {
	return s.itemCmd(ctx, &Command{Op: opAbandon, ItemID: item})
}

// Reassign assigns item to agent directly (a supervisor's move).
func (s *Service) Reassign(ctx context.Context, item, agent id.ID) (*WorkItem, error) {
	return s.itemCmd(ctx, &Command{Op: opReassign, ItemID: item, UserID: agent})
}

func (s *Service) itemCmd(ctx context.Context, c *Command) (*WorkItem, error) {
	if err := s.do(ctx, c); err != nil {
		return nil, err
	}
	return s.GetItem(ctx, c.ItemID)
}

// exec runs a command on this node's engine; done (may be nil) is written
// in the command's transaction.
func (s *Service) exec(ctx context.Context, c *Command, done extra) error {
	simple := func(op func(e *engine.Engine, now time.Time) ([]engine.Event, error)) error {
		_, err := s.run(ctx, true, nil, done, op)
		return err
	}
	item, agent := c.ItemID.String(), c.UserID.String()
	switch c.Op {
	case opUpsertQueue:
		if c.Queue == nil {
			return errs.Invalidf("queue", "required")
		}
		return s.upsertQueue(ctx, c.QueueID, *c.Queue, done)
	case opAgentProfile:
		if c.Profile == nil {
			return errs.Invalidf("profile", "required")
		}
		return s.setAgentProfile(ctx, c.UserID, *c.Profile, done)
	case opPresence:
		return simple(func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
			return e.SetPresence(agent, c.Presence, c.Reason, now)
		})
	case opEnqueue:
		if c.Item == nil {
			return errs.Invalidf("item", "required")
		}
		return s.enqueue(ctx, c.ItemID, *c.Item, done)
	case opAccept:
		return simple(func(e *engine.Engine, now time.Time) ([]engine.Event, error) { return e.Accept(item, agent, now) })
	case opDecline:
		return simple(func(e *engine.Engine, now time.Time) ([]engine.Event, error) { return e.Decline(item, agent, now) })
	case opComplete:
		post := func(ctx context.Context, tx *store.Tx) error {
			if c.Disposition == "" {
				return nil
			}
			_, err := tx.Exec(ctx, "UPDATE work_items SET disposition = ? WHERE id = ?", c.Disposition, int64(c.ItemID))
			return err
		}
		_, err := s.run(ctx, true, nil, both(post, done), func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
			return e.Complete(item, agent, now)
		})
		return err
	case opAbandon:
		return simple(func(e *engine.Engine, now time.Time) ([]engine.Event, error) { return e.Abandon(item, now) })
	case opReassign:
		return simple(func(e *engine.Engine, now time.Time) ([]engine.Event, error) { return e.Reassign(item, agent, now) })
	}
	return errs.Invalidf("op", "unknown routing command %q", c.Op)
}

// both runs a then b (either may be nil).
func both(a, b extra) extra {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ctx context.Context, tx *store.Tx) error {
		if err := a(ctx, tx); err != nil {
			return err
		}
		return b(ctx, tx)
	}
}

// Tick fires the engine's timers (offer timeouts, overflow, ...).
func (s *Service) Tick(ctx context.Context) error {
	_, err := s.run(ctx, false, nil, nil, func(e *engine.Engine, now time.Time) ([]engine.Event, error) {
		return e.Tick(now), nil
	})
	return err
}

// RunTicker calls Tick every interval until ctx ends. With several nodes it
// also keeps the router going: a node without the router tries to take it
// over (at most every LockRetry), and the router checks its lock, runs the
// commands other nodes hand over (woken by the bus, and every interval in
// case a wake-up was lost) and prunes old answered ones.
func (s *Service) RunTicker(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	wake := worker.NewWake()
	if s.shared() {
		// A goroutine of its own drains the wake-ups, so that a burst of
		// handed-over commands never makes the subscription lag (and lose
		// wake-ups) while the loop below is busy.
		go s.listenForCommands(ctx, wake)
	}
	var lastCheck, lastPrune time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			s.serveCommands(ctx)
		case <-t.C:
			if time.Since(time.Unix(0, s.calendarsAt.Load())) >= CalendarRefresh && s.leading() {
				if err := s.refreshCalendars(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("routing: reloading business hours", "err", err)
				}
			}
			if err := s.Tick(ctx); err != nil && !errors.Is(err, errNotLeader) && ctx.Err() == nil {
				s.log.Warn("routing: tick", "err", err)
			}
			if !s.shared() {
				continue
			}
			now := time.Now()
			if now.Sub(lastCheck) >= time.Second {
				lastCheck = now
				s.checkLock(ctx)
			}
			s.serveCommands(ctx)
			if now.Sub(lastPrune) >= time.Hour && s.leading() {
				lastPrune = now
				s.pruneCommands(ctx)
			}
		}
	}
}

// listenForCommands rings wake for every command another node hands over,
// subscribing again when the subscription lags or closes.
func (s *Service) listenForCommands(ctx context.Context, wake worker.Wake) {
	for ctx.Err() == nil {
		sub := s.bus.Subscribe(commandsTopic)
		func() {
			defer sub.Close()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-sub.C():
					if !ok || ev.Type == bus.TypeLagged {
						wake.Ring() // what was missed is read from the table
						return
					}
					var c wireCommand
					if !ev.Truncated && json.Unmarshal(ev.Data, &c) == nil && c.ID != 0 && s.leading() {
						s.startCommand(ctx, c.ID, string(c.Body))
						continue
					}
					wake.Ring()
				}
			}
		}()
	}
}

// Stats reports on a queue from the engine (the router's node only).
func (s *Service) Stats(ctx context.Context, qid id.ID) (engine.QueueStats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.ensure(ctx); err != nil {
		if errors.Is(err, errNotLeader) {
			return engine.QueueStats{}, ErrOtherNode
		}
		return engine.QueueStats{}, err
	}
	return s.eng.Stats(qid.String(), s.Now())
}

// ---- publishing ----

func (s *Service) publish(evs []engine.Event, queues []string) {
	out := make([]bus.Event, 0, len(evs))
	for i, ev := range evs {
		_, _, ag := refs(ev)
		topics := []string{"routing"}
		if q := queues[i]; q != "" {
			topics = append(topics, "queue:"+q)
		}
		if ag != "" {
			topics = append(topics, "user:"+ag)
		}
		data, err := json.Marshal(ev)
		if err != nil {
			continue
		}
		out = append(out, bus.Event{Type: "routing." + string(ev.Kind()), Topics: topics, Data: data})
	}
	// One round trip for the group's events (PostgreSQL), made while the
	// engine is held so that events go out in commit order.
	if err := s.bus.PublishAll(context.Background(), out); err != nil && !errors.Is(err, bus.ErrClosed) {
		s.log.Warn("routing: publishing", "err", err)
	}
}

// refs names the queue, item and agent an event concerns.
func refs(ev engine.Event) (queue, item, agent string) {
	switch e := ev.(type) {
	case engine.ItemQueued:
		return e.Item.QueueID, e.Item.ID, ""
	case engine.OfferMade:
		return e.QueueID, e.ItemID, e.AgentID
	case engine.OfferAccepted:
		return "", e.ItemID, e.AgentID
	case engine.OfferDeclined:
		return "", e.ItemID, e.AgentID
	case engine.OfferTimedOut:
		return "", e.ItemID, e.AgentID
	case engine.OfferRevoked:
		return "", e.ItemID, e.AgentID
	case engine.ItemAssigned:
		return e.QueueID, e.ItemID, e.AgentID
	case engine.ItemRequeued:
		return "", e.ItemID, e.FromAgentID
	case engine.ItemCompleted:
		return e.QueueID, e.ItemID, e.AgentID
	case engine.ItemAbandoned:
		return e.QueueID, e.ItemID, e.AgentID
	case engine.ItemOverflowed:
		return e.ToQueueID, e.ItemID, ""
	case engine.PreferenceReleased:
		return "", e.ItemID, e.AgentID
	case engine.PresenceChanged:
		return "", "", e.AgentID
	case engine.AgentRemoved:
		return "", "", e.AgentID
	case engine.QueueStateChanged:
		return e.QueueID, "", ""
	}
	return "", "", ""
}

func nullID(v id.ID) any {
	if v == 0 {
		return nil
	}
	return int64(v)
}

func nullStrID(s string) any {
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return n
}

func micros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}
