// Package outbox sends outbound messages (replies from the desk) through
// the channel adapters, durably: a message to send is a row in
// outbound_deliveries written in the transaction that records its
// interaction, and a dispatcher hands due rows to the Sender of the contact
// point's kind, retrying with exponential backoff. Each outcome is written
// back to the interaction's delivery_status and published on the bus so
// that open case pages show it. It is generic on purpose: email is the
// first Sender; SMS, WhatsApp and social senders plug in the same way.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/bus"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/worker"
)

// States of a delivery, also written to the interaction's delivery_status.
const (
	Queued    = "queued"
	Sent      = "sent"
	Delivered = "delivered"
	Read      = "read"
	Failed    = "failed"
)

// pending is cases.DeliveryPending: a reply recorded on a channel without a
// sender. The outbox takes those its senders can deliver.
const pending = "pending"

// Defaults of Options.
const (
	DefaultMaxAttempts = 8
	DefaultBaseDelay   = 30 * time.Second
	DefaultMaxDelay    = time.Hour
	// claimTTL is how long a node owns a claimed delivery; a node that dies
	// mid-send loses it after this and the delivery is tried again. It is
	// well above SendTimeout so that a live sender is never overtaken.
	claimTTL    = 3 * time.Minute
	SendTimeout = time.Minute
	claimBatch  = 16
	maxErrorLen = 500
)

// Delivery is one message to send, as a Sender gets it.
type Delivery struct {
	ID             id.ID
	Interaction    *interaction.Interaction
	ContactPointID id.ID
	Channel        string // the contact point's kind
	Attempt        int    // 1 for the first try
}

// Result is what a Sender reports of a message it handed over.
type Result struct {
	Recipient         string // who it went to, for the record
	ProviderMessageID string // the provider's id (for email, the Message-ID)
}

// Sender delivers the messages of one contact point kind.
type Sender interface {
	// Ready tells whether messages of this contact point can be sent (its
	// settings name a server, or the node delivers locally). Replies on a
	// contact point that is not ready stay "pending", as before.
	Ready(settings json.RawMessage) bool
	// Send hands the message to the channel. An error wrapped with
	// Permanent is not retried.
	Send(ctx context.Context, d Delivery) (Result, error)
}

// PermanentError is a failure that retrying cannot fix (a refused
// recipient, a message the provider will never take).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying.
func Permanent(err error) error { return &PermanentError{Err: err} }

// Options configure a Service; zero fields take the defaults.
type Options struct {
	MaxAttempts int
	BaseDelay   time.Duration // the delay after the first failure; doubles each time
	MaxDelay    time.Duration
	Log         *slog.Logger
}

// Service is the outbox.
type Service struct {
	db           *store.DB
	interactions *interaction.Service
	bus          bus.Bus
	log          *slog.Logger
	opts         Options
	now          func() time.Time
	wake         worker.Wake

	mu        sync.RWMutex
	senders   map[string]Sender
	customers *customer.Service // for the contact rules (rules.go)
	calendars CalendarSource
}

// New returns the outbox; register senders before Run.
func New(db *store.DB, interactions *interaction.Service, b bus.Bus, opts Options) *Service {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = DefaultBaseDelay
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Service{db: db, interactions: interactions, bus: b, log: opts.Log, opts: opts, now: time.Now,
		wake: worker.NewWake(), senders: map[string]Sender{}}
}

// Register installs the sender of a contact point kind ("email").
func (s *Service) Register(kind string, snd Sender) {
	s.mu.Lock()
	s.senders[kind] = snd
	s.mu.Unlock()
}

func (s *Service) sender(kind string) Sender {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.senders[kind]
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Linker wraps the case linker of the interaction service so that a reply
// and its delivery row commit together: it runs in the recording
// transaction, after the cases are linked.
type Linker struct {
	Next   interaction.CaseLinker
	Outbox *Service
}

// LinkCases implements interaction.CaseLinker.
func (l Linker) LinkCases(ctx context.Context, tx *store.Tx, stored []interaction.Recorded) error {
	if l.Next != nil {
		if err := l.Next.LinkCases(ctx, tx, stored); err != nil {
			return err
		}
	}
	return l.Outbox.enqueue(ctx, tx, stored)
}

// enqueue adds a delivery for each stored outbound message that waits for
// a sender ("pending") on a contact point whose sender is ready.
func (s *Service) enqueue(ctx context.Context, tx *store.Tx, stored []interaction.Recorded) error {
	now := s.now().UTC().UnixMicro()
	added := false
	for _, r := range stored {
		in := r.In
		if in.Direction != interaction.Outbound || in.DeliveryStatus != pending || in.ContactPointID == 0 {
			continue
		}
		var kind, settings string
		if err := tx.QueryRow(ctx, "SELECT kind, settings FROM contact_points WHERE id = ?", in.ContactPointID).Scan(&kind, &settings); err != nil {
			return fmt.Errorf("outbox: reading contact point %s: %w", in.ContactPointID, err)
		}
		snd := s.sender(kind)
		if snd == nil || !snd.Ready(json.RawMessage(settings)) {
			continue
		}
		_, err := tx.Exec(ctx, `INSERT INTO outbound_deliveries (id, interaction_id, contact_point_id, channel, state,
			next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id) DO NOTHING`,
			tx.NewID(), r.ID, in.ContactPointID, kind, Queued, now, now, now)
		if err != nil {
			return fmt.Errorf("outbox: queueing interaction %s: %w", r.ID, err)
		}
		if _, err := tx.Exec(ctx, "UPDATE interactions SET delivery_status = ? WHERE id = ?", Queued, r.ID); err != nil {
			return err
		}
		in.DeliveryStatus = Queued
		added = true
	}
	if added {
		s.kick()
	}
	return nil
}

func (s *Service) kick() { s.wake.Ring() }

// Run dispatches due deliveries until ctx ends: at once when a reply is
// queued, else every poll. A send in flight when ctx ends is not recorded;
// its claim expires and it is tried again (at least once, never lost).
func (s *Service) Run(ctx context.Context, poll time.Duration) {
	worker.Poll(ctx, poll, s.wake, claimBatch, s.DispatchOnce, func(err error) { s.log.Warn("outbox: dispatching", "err", err) })
}

type claimed struct {
	id, interactionID, cpID id.ID
	channel                 string
	attempts                int
	until                   int64 // the claim's token
}

// DispatchOnce claims due deliveries, sends them one by one and records
// each outcome; it returns how many it claimed.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	cs, err := s.claim(ctx)
	if err != nil || len(cs) == 0 {
		return 0, err
	}
	for _, c := range cs {
		if ctx.Err() != nil {
			break
		}
		s.attempt(ctx, c)
	}
	return len(cs), nil
}

func (s *Service) claim(ctx context.Context) ([]claimed, error) {
	now := s.now().UTC()
	until := now.Add(claimTTL).UnixMicro()
	var out []claimed
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		out = out[:0]
		inner := "SELECT id FROM outbound_deliveries WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"
		if tx.Dialect() == store.Postgres {
			inner += " FOR UPDATE SKIP LOCKED"
		}
		rows, err := tx.Query(ctx, "UPDATE outbound_deliveries SET next_attempt_at = ? WHERE id IN ("+inner+
			") RETURNING id, interaction_id, contact_point_id, channel, attempts", until, now.UnixMicro(), claimBatch)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := claimed{until: until}
			if err := rows.Scan(&c.id, &c.interactionID, &c.cpID, &c.channel, &c.attempts); err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: claiming deliveries: %w", err)
	}
	return out, nil
}

func (s *Service) attempt(ctx context.Context, c claimed) {
	d := Delivery{ID: c.id, ContactPointID: c.cpID, Channel: c.channel, Attempt: c.attempts + 1}
	var res Result
	var err error
	snd := s.sender(c.channel)
	if snd == nil {
		err = Permanent(fmt.Errorf("no sender for %s contact points on this node", c.channel))
	} else if d.Interaction, err = s.interactions.Get(ctx, c.interactionID); err == nil {
		var v Verdict
		if v, err = s.check(ctx, snd, d); err == nil {
			switch {
			case v.Refusal != "":
				err = Permanent(errors.New(v.Refusal))
			case !v.HoldUntil.IsZero():
				// Quiet hours: wait, without spending an attempt.
				d.Attempt = c.attempts
				s.record(ctx, c, d, Queued, &v.HoldUntil, "held for quiet hours until "+v.HoldUntil.Format(time.RFC3339), res)
				return
			default:
				sctx, cancel := context.WithTimeout(ctx, SendTimeout)
				res, err = snd.Send(sctx, d)
				cancel()
			}
		}
	}
	if ctx.Err() != nil {
		return // shutting down: the claim expires and it is tried again
	}
	state := Sent
	var next *time.Time
	errText := ""
	if err != nil {
		errText = err.Error()
		if len(errText) > maxErrorLen {
			errText = errText[:maxErrorLen]
		}
		var perm *PermanentError
		if errors.As(err, &perm) || d.Attempt >= s.opts.MaxAttempts {
			state = Failed
		} else {
			state = Queued
			t := s.now().UTC().Add(s.Backoff(d.Attempt))
			next = &t
		}
		s.log.Warn("outbox: sending", "delivery", c.id, "interaction", c.interactionID, "attempt", d.Attempt, "retry", next != nil, "err", err)
	}
	s.record(ctx, c, d, state, next, errText, res)
}

// check applies the contact rules to a delivery of a RuleBound sender.
func (s *Service) check(ctx context.Context, snd Sender, d Delivery) (Verdict, error) {
	rb, ok := snd.(RuleBound)
	s.mu.RLock()
	ready := s.customers != nil
	s.mu.RUnlock()
	if !ok || !rb.ContactRules() || !ready {
		return Verdict{}, nil
	}
	f, err := s.facts(ctx, d)
	if err != nil {
		return Verdict{}, err
	}
	return Decide(f), nil
}

// Backoff is the delay before the next try after the given number of
// failed attempts: BaseDelay doubled each time, up to MaxDelay.
func (s *Service) Backoff(attempts int) time.Duration {
	d := s.opts.BaseDelay
	for i := 1; i < attempts && d < s.opts.MaxDelay; i++ {
		d *= 2
	}
	return min(d, s.opts.MaxDelay)
}

// record writes an attempt's outcome, only while this node's claim holds,
// and then tells open pages.
func (s *Service) record(ctx context.Context, c claimed, d Delivery, state string, next *time.Time, errText string, res Result) {
	now := s.now().UTC()
	var nextAt any
	if next != nil {
		nextAt = next.UnixMicro()
	}
	changed := false
	err := s.db.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE outbound_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?,
			recipient = CASE WHEN ? = '' THEN recipient ELSE ? END,
			provider_message_id = CASE WHEN ? = '' THEN provider_message_id ELSE ? END, updated_at = ?
			WHERE id = ? AND next_attempt_at = ?`,
			state, d.Attempt, nextAt, errText, res.Recipient, res.Recipient, res.ProviderMessageID, res.ProviderMessageID,
			now.UnixMicro(), c.id, c.until)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return nil // the claim expired and another attempt owns the row
		}
		changed = true
		_, err = tx.Exec(ctx, "UPDATE interactions SET delivery_status = ? WHERE id = ?", state, c.interactionID)
		return err
	})
	if err != nil {
		s.log.Warn("outbox: recording an attempt; the claim will expire and it is tried again", "delivery", c.id, "err", err)
		return
	}
	if changed && d.Interaction != nil {
		s.publish(ctx, d.Interaction, state, errText)
	}
}

func (s *Service) publish(ctx context.Context, it *interaction.Interaction, state, errText string) {
	data := map[string]any{"interaction_id": it.ID, "customer_id": it.CustomerID, "delivery_status": state}
	if errText != "" {
		data["error"] = errText
	}
	topics := []string{"customer:" + it.CustomerID.String()}
	if it.CaseID != nil {
		data["case_id"] = *it.CaseID
		topics = append(topics, "case:"+it.CaseID.String())
	}
	b, _ := json.Marshal(data)
	if err := s.bus.Publish(ctx, bus.Event{Type: "interaction.updated", Topics: topics, Data: b}); err != nil {
		s.log.Warn("outbox: publishing a delivery status", "interaction", it.ID, "err", err)
	}
}

// Status is a delivery as stored, for tests and the desk.
type Status struct {
	ID                id.ID
	InteractionID     id.ID
	State             string
	Attempts          int
	Recipient         string
	LastError         string
	ProviderMessageID string
	NextAttemptAt     *time.Time
}

// Get returns the delivery of an interaction.
func (s *Service) Get(ctx context.Context, interactionID id.ID) (*Status, error) {
	var st Status
	var next *int64
	err := s.db.QueryRow(ctx, `SELECT id, interaction_id, state, attempts, recipient, last_error, provider_message_id, next_attempt_at
		FROM outbound_deliveries WHERE interaction_id = ?`, interactionID).
		Scan(&st.ID, &st.InteractionID, &st.State, &st.Attempts, &st.Recipient, &st.LastError, &st.ProviderMessageID, &next)
	if err != nil {
		return nil, err
	}
	if next != nil {
		t := time.UnixMicro(*next).UTC()
		st.NextAttemptAt = &t
	}
	return &st, nil
}
