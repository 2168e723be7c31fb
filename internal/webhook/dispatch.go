package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/keyset"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/worker"
)

const (
	claimBatch = 32 // deliveries claimed per pass
	senders    = 8  // concurrent POSTs per node
)

// Run dispatches due deliveries until ctx ends: at once when Emit says there
// is new work, otherwise every poll (1 s when 0). A delivery in flight when
// ctx ends is not recorded; its claim expires and it is sent again.
func (s *Service) Run(ctx context.Context, poll time.Duration) {
	worker.Poll(ctx, poll, s.wake, claimBatch, s.DispatchOnce, func(err error) { s.log.Warn("webhooks: dispatching", "err", err) })
}

// claimed is a delivery this node owns until its claim expires.
type claimed struct {
	id         id.ID
	subID      id.ID
	eventType  string
	payload    []byte
	attempts   int
	claimUntil int64 // the claim's token: the outcome is written only while it holds
}

// DispatchOnce claims the due deliveries (up to a batch), sends them and
// records the outcomes; it returns how many it claimed.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	cs, err := s.claim(ctx, 0)
	if err != nil || len(cs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, senders)
	var wg sync.WaitGroup
	for _, c := range cs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.attempt(ctx, c)
		}()
	}
	wg.Wait()
	return len(cs), nil
}

// claim takes due deliveries (or the one named) for this node by moving
// their next attempt past the claim's lifetime. On PostgreSQL SKIP LOCKED
// lets several nodes claim at once without taking the same rows; SQLite has
// one node and one writer.
func (s *Service) claim(ctx context.Context, only id.ID) ([]claimed, error) {
	now := s.now().UTC()
	until := now.Add(claimTTL).UnixMicro()
	var out []claimed
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		out = out[:0]
		inner := "SELECT id FROM webhook_deliveries WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?"
		args := []any{until, now.UnixMicro(), claimBatch}
		if only != 0 {
			inner = "SELECT id FROM webhook_deliveries WHERE id = ? AND next_attempt_at <= ?"
			args = []any{until, only, now.UnixMicro()}
		}
		if tx.Dialect() == store.Postgres {
			inner += " FOR UPDATE SKIP LOCKED"
		}
		rows, err := tx.Query(ctx, "UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id IN ("+inner+
			") RETURNING id, subscription_id, event_type, payload, attempts", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c := claimed{claimUntil: until}
			var payload string
			if err := rows.Scan(&c.id, &c.subID, &c.eventType, &payload, &c.attempts); err != nil {
				return err
			}
			c.payload = []byte(payload)
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claiming webhook deliveries: %w", err)
	}
	return out, nil
}

// target is what sending needs of a subscription.
type target struct {
	url, secret, previous string
	previousUntil         sql.NullInt64
	active                bool
}

func (s *Service) target(ctx context.Context, subID id.ID) (*target, error) {
	var t target
	var active int
	err := s.db.QueryRow(ctx, "SELECT url, secret, previous_secret, previous_until, active FROM webhook_subscriptions WHERE id = ?", subID).
		Scan(&t.url, &t.secret, &t.previous, &t.previousUntil, &active)
	if err != nil {
		return nil, err
	}
	t.active = active != 0
	return &t, nil
}

// outcome is what an attempt changes on its delivery.
type outcome struct {
	state     string
	next      *time.Time
	countIt   bool // the attempt counts towards MaxAttempts
	status    int
	errText   string
	elapsed   time.Duration
	delivered bool
	gone      bool // 410: deactivate the subscription
	drop      bool // the subscription is gone: delete the delivery
}

func (s *Service) attempt(ctx context.Context, c claimed) {
	t, err := s.target(ctx, c.subID)
	if errors.Is(err, sql.ErrNoRows) {
		s.record(ctx, c, outcome{drop: true})
		return
	}
	if err != nil {
		s.log.Warn("webhooks: reading subscription; the claim will expire and the delivery be retried", "delivery", c.id, "err", err)
		return
	}
	if !t.active {
		s.record(ctx, c, outcome{state: Dead, errText: "subscription inactive; not sent"})
		return
	}
	now := s.now().UTC()
	secrets := []string{t.secret}
	if t.previous != "" && t.previousUntil.Valid && now.UnixMicro() < t.previousUntil.Int64 {
		secrets = append(secrets, t.previous)
	}
	req := Request{URL: t.url, Body: c.payload, Headers: map[string]string{
		"Content-Type":           "application/json",
		"User-Agent":             "Touchpoint-Webhooks",
		"X-Touchpoint-Event":     c.eventType,
		"X-Touchpoint-Delivery":  c.id.String(),
		"X-Touchpoint-Timestamp": strconv.FormatInt(now.Unix(), 10),
		"X-Touchpoint-Signature": Sign(now, c.payload, secrets...),
	}}
	sctx, cancel := context.WithTimeout(ctx, SendTimeout)
	began := time.Now()
	resp := s.post.Post(sctx, req)
	elapsed := time.Since(began)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the claim expires and the delivery is sent again
	}
	o := outcome{status: resp.Status, elapsed: elapsed, countIt: true}
	switch {
	case resp.Err == nil && resp.Status >= 200 && resp.Status < 300:
		o.state, o.delivered = Delivered, true
	case resp.Status == 410:
		o.state, o.gone, o.errText = Dead, true, "410 Gone: the receiver asked to stop; subscription deactivated"
	default:
		if resp.Err != nil {
			o.errText = resp.Err.Error()
		} else {
			o.errText = "HTTP " + strconv.Itoa(resp.Status)
			if sn := strings.TrimSpace(resp.Snippet); sn != "" {
				o.errText += ": " + sn
			}
		}
		if c.attempts+1 >= MaxAttempts {
			o.state = Dead
		} else {
			o.state = Failed
			next := s.now().UTC().Add(s.backoff(c.attempts + 1))
			o.next = &next
		}
	}
	s.record(ctx, c, o)
}

// backoff is the wait after the n-th failed attempt: 30 s, ×4 each time, at
// most 10 h, spread by ±20 % so that a receiver that comes back is not hit by
// every retry at once. Eight attempts span about 21 hours.
func (s *Service) backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= backoffRatio
	}
	d = min(d, maxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*s.jitter()))
}

// record writes an attempt's outcome, only while the claim still holds (a
// sender that overran its claim must not overwrite a newer attempt).
func (s *Service) record(ctx context.Context, c claimed, o outcome) {
	now := s.now().UTC()
	err := s.db.Write(context.WithoutCancel(ctx), func(ctx context.Context, tx *store.Tx) error {
		if o.drop {
			_, err := tx.Exec(ctx, "DELETE FROM webhook_deliveries WHERE id = ? AND next_attempt_at = ?", c.id, c.claimUntil)
			return err
		}
		attempts := c.attempts
		if o.countIt {
			attempts++
		}
		var next, delivered, status, ms any
		if o.next != nil {
			next = o.next.UnixMicro()
		}
		if o.delivered {
			delivered = now.UnixMicro()
		}
		if o.status != 0 {
			status = o.status
		}
		if o.countIt {
			ms = o.elapsed.Milliseconds()
		}
		res, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = COALESCE(?, last_status), last_error = ?,
			response_ms = COALESCE(?, response_ms), delivered_at = ? WHERE id = ? AND next_attempt_at = ?`,
			o.state, attempts, next, status, truncate(o.errText), ms, delivered, c.id, c.claimUntil)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errStaleClaim
		}
		if o.gone {
			_, err = tx.Exec(ctx, "UPDATE webhook_subscriptions SET active = 0, deactivated_reason = ?, updated_at = ? WHERE id = ?",
				"the receiver answered 410 Gone at "+now.Format(time.RFC3339), now.UnixMicro(), c.subID)
		}
		return err
	})
	switch {
	case errors.Is(err, errStaleClaim):
		s.log.Warn("webhooks: an attempt outlived its claim; its outcome was not recorded", "delivery", c.id)
	case err != nil:
		s.log.Error("webhooks: recording an attempt", "delivery", c.id, "err", err)
	case o.drop:
	case o.gone:
		s.sent.WithLabelValues("gone").Inc()
		s.log.Info("webhooks: receiver answered 410; subscription deactivated", "subscription", c.subID)
	default:
		s.sent.WithLabelValues(o.state).Inc()
	}
}

var errStaleClaim = errors.New("claim expired")

func truncate(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) <= maxErrorLen {
		return s
	}
	s = s[:maxErrorLen]
	return strings.ToValidUTF8(s, "") + "…"
}

// Delivery is one event for one subscription and how sending it went.
type Delivery struct {
	ID             id.ID      `json:"id"`
	SubscriptionID id.ID      `json:"subscription_id"`
	EventType      string     `json:"event_type"`
	EventID        string     `json:"event_id"`
	ReplayOf       *id.ID     `json:"replay_of,omitempty"`
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus     *int       `json:"last_status,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	ResponseMS     *int64     `json:"response_ms,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	// Payload is the body sent; only Delivery (one) fills it in.
	Payload json.RawMessage `json:"payload,omitempty"`
}

const deliveryColumns = "id, subscription_id, event_type, event_id, replay_of, state, attempts, next_attempt_at, last_status, last_error, response_ms, created_at, delivered_at"

func scanDelivery(r scanner, extra ...any) (*Delivery, error) {
	var d Delivery
	var replay, next, status, ms, delivered sql.NullInt64
	var created int64
	dst := append([]any{&d.ID, &d.SubscriptionID, &d.EventType, &d.EventID, &replay, &d.State, &d.Attempts, &next, &status, &d.LastError, &ms, &created, &delivered}, extra...)
	if err := r.Scan(dst...); err != nil {
		return nil, err
	}
	if replay.Valid {
		v := id.ID(replay.Int64)
		d.ReplayOf = &v
	}
	d.NextAttemptAt, d.DeliveredAt = optMicros(next), optMicros(delivered)
	if status.Valid {
		v := int(status.Int64)
		d.LastStatus = &v
	}
	if ms.Valid {
		d.ResponseMS = &ms.Int64
	}
	d.CreatedAt = micros(created)
	return &d, nil
}

// DeliveryQuery selects a page of a subscription's delivery log.
type DeliveryQuery struct {
	State  string // "" for all
	Limit  int    // default 50, at most 200
	Cursor string // next_cursor of the previous page
}

// Deliveries lists a subscription's deliveries, newest first, a page at a
// time (keyset pagination on the id, which sorts by creation).
func (s *Service) Deliveries(ctx context.Context, subID id.ID, q DeliveryQuery) ([]*Delivery, string, error) {
	if _, err := s.Get(ctx, subID); err != nil {
		return nil, "", err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 200)
	where := "subscription_id = ?"
	args := []any{subID}
	switch q.State {
	case "":
	case Pending, Failed, Delivered, Dead:
		where += " AND state = ?"
		args = append(args, q.State)
	default:
		return nil, "", errs.Invalidf("state", "must be one of pending, failed, delivered, dead")
	}
	if q.Cursor != "" {
		_, last, err := keyset.Decode(q.Cursor)
		if err != nil {
			return nil, "", errs.Invalidf("cursor", "is not a cursor of this list")
		}
		where += " AND id < ?"
		args = append(args, last)
	}
	rows, err := s.db.Query(ctx, "SELECT "+deliveryColumns+" FROM webhook_deliveries WHERE "+where+" ORDER BY id DESC LIMIT ?", append(args, q.Limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("listing webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []*Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > q.Limit {
		out = out[:q.Limit]
		l := out[len(out)-1]
		next = keyset.Encode(l.CreatedAt.UnixMicro(), l.ID)
	}
	return out, next, nil
}

// Delivery returns one delivery of a subscription, with its payload.
func (s *Service) Delivery(ctx context.Context, subID, deliveryID id.ID) (*Delivery, error) {
	var payload string
	d, err := scanDelivery(s.db.QueryRow(ctx, "SELECT "+deliveryColumns+", payload FROM webhook_deliveries WHERE id = ? AND subscription_id = ?", deliveryID, subID), &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("webhook delivery %s of subscription %s", deliveryID, subID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading webhook delivery %s: %w", deliveryID, err)
	}
	d.Payload = json.RawMessage(payload)
	return d, nil
}

// Replay schedules a new delivery of a delivery's event (same body and event
// id, so a receiver that already has it can tell), due now.
func (s *Service) Replay(ctx context.Context, subID, deliveryID id.ID) (*Delivery, error) {
	now := s.now().UTC()
	var newID id.ID
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := requireActive(ctx, tx, subID); err != nil {
			return err
		}
		newID = tx.NewID()
		res, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, event_type, event_id, replay_of, payload, state, next_attempt_at, created_at)
			SELECT ?, subscription_id, event_type, event_id, id, payload, ?, ?, ? FROM webhook_deliveries WHERE id = ? AND subscription_id = ?`,
			newID, Pending, now.UnixMicro(), now.UnixMicro(), deliveryID, subID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("webhook delivery %s of subscription %s", deliveryID, subID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replaying webhook delivery: %w", err)
	}
	s.kick()
	return s.Delivery(ctx, subID, newID)
}

func requireActive(ctx context.Context, tx *store.Tx, subID id.ID) error {
	var active int
	err := tx.QueryRow(ctx, "SELECT active FROM webhook_subscriptions WHERE id = ?", subID).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.NotFoundf("webhook subscription %s", subID)
	}
	if err != nil {
		return err
	}
	if active == 0 {
		return errs.Conflictf("webhook subscription %s is inactive; activate it first", subID)
	}
	return nil
}

// Ping sends a webhook.ping event to the subscription now and answers the
// delivery with the receiver's answer (up to the send timeout). If the ping
// fails it is retried like any delivery.
func (s *Service) Ping(ctx context.Context, subID id.ID) (*Delivery, error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	var dID id.ID
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		if err := requireActive(ctx, tx, subID); err != nil {
			return err
		}
		dID = tx.NewID()
		data, _ := json.Marshal(map[string]any{"subscription_id": subID, "message": "a test event from Touchpoint"})
		body, err := json.Marshal(Event{ID: "evt_" + dID.String(), Type: PingEvent, CreatedAt: now, Data: data})
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, event_type, event_id, payload, state, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, dID, subID, PingEvent, "evt_"+dID.String(), string(body), Pending, now.UnixMicro(), now.UnixMicro())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("writing a webhook ping: %w", err)
	}
	cs, err := s.claim(ctx, dID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs { // none if the dispatcher took it first
		s.attempt(ctx, c)
	}
	return s.Delivery(ctx, subID, dID)
}
