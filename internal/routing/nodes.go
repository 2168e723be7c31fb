package routing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/routing/engine"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Routing on several nodes. One node holds the advisory lock and runs the
// engine (the router); every other node writes its commands to
// routing_commands, wakes the router over the bus and waits for the answer
// the router writes back into the row. The row is durable, and the router
// marks it done in the same transaction that applies it, so a command runs
// exactly once even when the router stops half-way: the next router finds
// it pending and runs it.

// Command is one change to routing, as it travels between nodes.
type Command struct {
	Op          string          `json:"op"`
	QueueID     id.ID           `json:"queue_id,omitempty"`
	Queue       *QueueInput     `json:"queue,omitempty"`
	UserID      id.ID           `json:"user_id,omitempty"`
	Profile     *AgentProfile   `json:"profile,omitempty"`
	Presence    engine.Presence `json:"presence,omitempty"`
	Reason      string          `json:"reason,omitempty"`
	ItemID      id.ID           `json:"item_id,omitempty"`
	Item        *NewItem        `json:"item,omitempty"`
	Disposition string          `json:"disposition,omitempty"`
}

const (
	opUpsertQueue  = "queue.upsert"
	opAgentProfile = "agent.profile"
	opPresence     = "agent.presence"
	opEnqueue      = "item.enqueue"
	opAccept       = "item.accept"
	opDecline      = "item.decline"
	opComplete     = "item.complete"
	opAbandon      = "item.abandon"
	opReassign     = "item.reassign"
)

// wireCommand is a handed-over command as the wake-up carries it.
type wireCommand struct {
	ID   id.ID           `json:"id"`
	Body json.RawMessage `json:"body"`
}

// wireAnswer is the router's answer as the reply event carries it.
type wireAnswer struct {
	Error string `json:"error,omitempty"`
}

// CommandTimeout bounds how long a node waits for the router to answer a
// command it handed over (long enough for another node to take over).
var CommandTimeout = 15 * time.Second

// commandsTopic wakes the router when a command is waiting.
const commandsTopic = "routing-commands"

var (
	// errNotLeader: this node does not run the router (now).
	errNotLeader = errors.New("routing: this node does not run the router")
	// errFenced: another node took over since this one did.
	errFenced = errors.New("routing: another node runs the router now")
	// errCancelled: the command's caller gave up before it ran.
	errCancelled = errors.New("routing: the command was withdrawn")
)

// shared tells whether several nodes may share the store (and the router).
func (s *Service) shared() bool {
	return s.db.Dialect == store.Postgres && s.lockURL != ""
}

// do runs c here when this node runs the router, else hands it over.
func (s *Service) do(ctx context.Context, c *Command) error {
	err := s.exec(ctx, c, nil)
	if !errors.Is(err, errNotLeader) {
		return err
	}
	return s.forward(ctx, c)
}

// takeOver bumps the leader epoch after the lock is taken; the router's
// writes check it (fence), so a former router that has not yet noticed it
// lost the lock cannot write any more.
func (s *Service) takeOver(ctx context.Context) (int64, error) {
	var epoch int64
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE routing_leader SET epoch = epoch + 1, node = ?, since = ? WHERE id = 1",
			s.node(), time.Now().UnixMicro()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT epoch FROM routing_leader WHERE id = 1").Scan(&epoch)
	})
	return epoch, err
}

// fence fails the router's transaction when another node took over. The
// share lock makes a takeover wait for a write in flight.
func (s *Service) fence(ctx context.Context, tx *store.Tx) error {
	if s.epoch == 0 {
		return nil
	}
	var epoch int64
	if err := tx.QueryRow(ctx, "SELECT epoch FROM routing_leader WHERE id = 1 FOR SHARE").Scan(&epoch); err != nil {
		return err
	}
	if epoch != s.epoch {
		return errFenced
	}
	return nil
}

// abdicate stops running the router here (s.mu is held).
func (s *Service) abdicate(why string) {
	s.log.Warn("routing: this node stops running the router", "why", why)
	s.started, s.eng, s.epoch = false, nil, 0
	s.releaseLock()
	s.lockTry = time.Now()
}

// releaseLock ends the lock's session: closing only the sql.Conn would put
// it back in the pool with the lock still held.
func (s *Service) releaseLock() {
	s.holdsLock.Store(false)
	if s.lockConn != nil {
		s.lockConn.Close()
		s.lockConn = nil
	}
	if s.lockDB != nil {
		s.lockDB.Close()
		s.lockDB = nil
	}
}

// checkLock makes sure the router's lock connection is alive; a router
// whose connection died has lost the lock and stops.
func (s *Service) checkLock(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lockConn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var one int
	if err := s.lockConn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		s.abdicate("lock connection: " + err.Error())
	}
}

// leading tells whether this node runs the router now: it holds the lock
// (PostgreSQL) or is the only node. It does not wait for the engine.
func (s *Service) leading() bool {
	return !s.shared() || s.holdsLock.Load()
}

func (s *Service) node() string { return s.bus.Node() }

// ---- handing a command over ----

// remoteError is a refusal that came back from the router: it reads as the
// router wrote it and still is the errs kind it was.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

type wireError struct {
	Kind   string `json:"kind"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

func encodeError(err error) string {
	if err == nil {
		return ""
	}
	w := wireError{Kind: "other", Reason: err.Error()}
	var inv *errs.Invalid
	switch {
	case errors.As(err, &inv):
		w = wireError{Kind: "invalid", Field: inv.Field, Reason: inv.Reason}
	case errors.Is(err, errs.ErrNotFound):
		w.Kind = "not_found"
	case errors.Is(err, errs.ErrConflict):
		w.Kind = "conflict"
	case errors.Is(err, errs.ErrForbidden):
		w.Kind = "forbidden"
	}
	b, _ := json.Marshal(w)
	return string(b)
}

func decodeError(s string) error {
	if s == "" {
		return nil
	}
	var w wireError
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return fmt.Errorf("routing: unreadable answer %q", s)
	}
	switch w.Kind {
	case "invalid":
		return &errs.Invalid{Field: w.Field, Reason: w.Reason}
	case "not_found":
		return &remoteError{w.Reason, errs.ErrNotFound}
	case "conflict":
		return &remoteError{w.Reason, errs.ErrConflict}
	case "forbidden":
		return &remoteError{w.Reason, errs.ErrForbidden}
	}
	return errors.New(w.Reason)
}

// forward stores c for the router, wakes it and waits for its answer. If
// the router does not answer within CommandTimeout the command is
// withdrawn — unless it ran meanwhile, in which case its answer counts.
func (s *Service) forward(ctx context.Context, c *Command) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	cid := s.db.IDs.New()
	sub := s.bus.Subscribe("routing-cmd:" + cid.String())
	defer sub.Close()
	if err := s.db.ExecAlone(ctx, "INSERT INTO routing_commands (id, node, body, created_at) VALUES (?, ?, ?, ?)",
		int64(cid), s.node(), string(body), time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("handing the routing command over: %w", err)
	}
	// The wake-up carries the command, so the router can start it without
	// reading the table (the table stays the truth when a wake-up is lost).
	wake, _ := json.Marshal(wireCommand{ID: cid, Body: body})
	if err := s.bus.Publish(ctx, bus.Event{Type: "routing.command", Topics: []string{commandsTopic}, Data: wake}); err != nil && !errors.Is(err, bus.ErrClosed) {
		s.log.Warn("routing: waking the router", "err", err)
	}
	deadline := time.NewTimer(CommandTimeout)
	defer deadline.Stop()
	// The bus is a hint; the row is the truth, read when woken and now and
	// then in case the hint was lost.
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		done, answer, err := s.commandAnswer(ctx, cid)
		if err != nil {
			return err
		}
		if done {
			return decodeError(answer)
		}
		select {
		case ev := <-sub.C():
			var a wireAnswer
			if ev.Type == "routing.command_done" && !ev.Truncated && json.Unmarshal(ev.Data, &a) == nil {
				return decodeError(a.Error)
			}
		case <-poll.C:
		case <-deadline.C:
			return s.withdraw(cid, errs.Conflictf("routing did not answer within %s; nothing was changed", CommandTimeout))
		case <-ctx.Done():
			return s.withdraw(cid, ctx.Err())
		}
	}
}

func (s *Service) commandAnswer(ctx context.Context, cid id.ID) (done bool, answer string, err error) {
	var doneAt sql.NullInt64
	err = s.db.QueryRow(ctx, "SELECT done_at, error FROM routing_commands WHERE id = ?", int64(cid)).Scan(&doneAt, &answer)
	return doneAt.Valid, answer, err
}

// withdraw marks a command nobody waits for any more as done, so that it
// never runs; if it ran meanwhile, its answer is returned instead of why.
func (s *Service) withdraw(cid id.ID, why error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var withdrawn bool
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		res, err := tx.Exec(ctx, "UPDATE routing_commands SET done_at = ?, error = ? WHERE id = ? AND done_at IS NULL",
			time.Now().UnixMicro(), encodeError(errCancelled), int64(cid))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		withdrawn = n == 1
		return err
	})
	if err != nil {
		return errors.Join(why, err)
	}
	if withdrawn {
		return why
	}
	_, answer, err := s.commandAnswer(ctx, cid)
	if err != nil {
		return err
	}
	return decodeError(answer)
}

// ---- the router's side ----

// serveCommands starts the pending commands of other nodes (the router
// only). Each runs on its own goroutine so that concurrent ones share a
// transaction (group commit).
func (s *Service) serveCommands(ctx context.Context) {
	if !s.shared() || !s.leading() {
		return
	}
	s.forgetFinished()
	rows, err := s.db.Query(ctx, "SELECT id, body FROM routing_commands WHERE done_at IS NULL ORDER BY id LIMIT 500")
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("routing: reading handed-over commands", "err", err)
		}
		return
	}
	type pending struct {
		id   id.ID
		body string
	}
	var todo []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.body); err != nil {
			rows.Close()
			s.log.Warn("routing: reading handed-over commands", "err", err)
			return
		}
		todo = append(todo, p)
	}
	rows.Close()
	for _, p := range todo {
		s.startCommand(ctx, p.id, p.body)
	}
}

// startCommand runs a handed-over command unless it runs or ran here
// already. Finished commands are remembered for a while: a read of the
// pending rows that began before one was answered still lists it, and
// running it again would fail its whole group.
func (s *Service) startCommand(ctx context.Context, cid id.ID, body string) {
	if _, seen := s.inflight.LoadOrStore(cid, time.Time{}); seen {
		return
	}
	go func() {
		s.serveCommand(context.WithoutCancel(ctx), cid, body)
		s.inflight.Store(cid, time.Now())
	}()
}

// forgetFinished drops the commands that finished over a minute ago.
func (s *Service) forgetFinished() {
	cut := time.Now().Add(-time.Minute)
	s.inflight.Range(func(k, v any) bool {
		if at := v.(time.Time); !at.IsZero() && at.Before(cut) {
			s.inflight.Delete(k)
		}
		return true
	})
}

// serveCommand runs one handed-over command and answers it.
func (s *Service) serveCommand(ctx context.Context, cid id.ID, body string) {
	ctx, cancel := context.WithTimeout(ctx, CommandTimeout)
	defer cancel()
	var c Command
	var err error
	if uerr := json.Unmarshal([]byte(body), &c); uerr != nil {
		err = fmt.Errorf("unreadable routing command: %w", uerr)
	} else {
		// Done in the command's own transaction: applied and answered at
		// once, and a withdrawn command fails the transaction.
		done := func(ctx context.Context, tx *store.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE routing_commands SET done_at = ? WHERE id = ? AND done_at IS NULL", time.Now().UnixMicro(), int64(cid))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return errors.Join(errCancelled, err)
			}
			return nil
		}
		err = s.exec(ctx, &c, done)
	}
	switch {
	case errors.Is(err, errNotLeader), errors.Is(err, errCancelled):
		// Not ours any more (the next router runs it), or withdrawn.
		return
	case err != nil:
		// Refused (or failed): nothing was applied; answer with why, if the
		// command is still waiting here (never for one this store does not
		// hold: its node waits for its own router's answer).
		var answered bool
		werr := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE routing_commands SET done_at = ?, error = ? WHERE id = ? AND done_at IS NULL",
				time.Now().UnixMicro(), encodeError(err), int64(cid))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			answered = n == 1
			return err
		})
		if werr != nil {
			s.log.Warn("routing: answering a handed-over command", "err", werr)
			return
		}
		if !answered {
			return
		}
	}
	answer, _ := json.Marshal(wireAnswer{Error: encodeError(err)})
	if perr := s.bus.Publish(ctx, bus.Event{Type: "routing.command_done", Topics: []string{"routing-cmd:" + cid.String()}, Data: answer}); perr != nil && !errors.Is(perr, bus.ErrClosed) {
		s.log.Warn("routing: answering a handed-over command", "err", perr)
	}
}

// pruneCommands drops answered commands older than a day (the router,
// now and then).
func (s *Service) pruneCommands(ctx context.Context) {
	cut := time.Now().Add(-24 * time.Hour).UnixMicro()
	if err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM routing_commands WHERE done_at IS NOT NULL AND done_at < ?", cut)
		return err
	}); err != nil && ctx.Err() == nil {
		s.log.Warn("routing: pruning answered commands", "err", err)
	}
}
