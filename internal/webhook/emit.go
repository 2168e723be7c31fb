package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Event is one thing that happened, as receivers get it: the body of every
// delivery is this envelope.
type Event struct {
	// ID identifies the event; receivers use it to drop repeats (a replay, or
	// a retry of a delivery whose answer was lost, carries the same id).
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// Emit writes one delivery of an event per active subscription that wants
// eventType, inside the caller's transaction: the deliveries commit or roll
// back with the change they report (a transactional outbox), so nothing
// acknowledged is lost and nothing rolled back is sent.
func (s *Service) Emit(ctx context.Context, tx *store.Tx, eventType string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encoding %s webhook payload: %w", eventType, err)
	}
	return s.EmitEvents(ctx, tx, Event{ID: "evt_" + tx.NewID().String(), Type: eventType, Data: b})
}

// EmitEvents is Emit for several events, with their own ids: an event
// emitted twice with the same id reaches each subscription once.
func (s *Service) EmitEvents(ctx context.Context, tx *store.Tx, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	subs, err := activeSubscriptions(ctx, tx)
	if err != nil || len(subs) == 0 {
		return err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	inserted := false
	for _, e := range events {
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		if len(e.Data) == 0 {
			e.Data = json.RawMessage("{}")
		}
		var body []byte
		for _, sub := range subs {
			if !matches(sub.events, e.Type) {
				continue
			}
			if body == nil {
				if body, err = json.Marshal(e); err != nil {
					return fmt.Errorf("encoding %s webhook event: %w", e.Type, err)
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, event_type, event_id, payload, state, next_attempt_at, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) WHERE replay_of IS NULL DO NOTHING`,
				tx.NewID(), sub.id, e.Type, e.ID, string(body), Pending, now.UnixMicro(), now.UnixMicro()); err != nil {
				return fmt.Errorf("writing %s webhook delivery: %w", e.Type, err)
			}
			inserted = true
		}
	}
	if inserted {
		s.kick()
	}
	return nil
}

type activeSub struct {
	id     int64
	events []string
}

// activeSubscriptions reads the subscriptions that take events now. The
// table is small (a few integrations); the query is one index-free scan of
// it in the caller's transaction, so that a subscription created a moment
// ago already counts.
func activeSubscriptions(ctx context.Context, tx *store.Tx) ([]activeSub, error) {
	rows, err := tx.Query(ctx, "SELECT id, events FROM webhook_subscriptions WHERE active = 1")
	if err != nil {
		return nil, fmt.Errorf("reading webhook subscriptions: %w", err)
	}
	defer rows.Close()
	var out []activeSub
	for rows.Next() {
		var a activeSub
		var evs string
		if err := rows.Scan(&a.id, &evs); err != nil {
			return nil, err
		}
		if json.Unmarshal([]byte(evs), &a.events) == nil {
			out = append(out, a)
		}
	}
	return out, rows.Err()
}

// kick wakes the dispatcher early. The delivery may not be committed yet
// (Emit runs inside the transaction); the dispatcher then finds it on a
// later pass, so this is only a hint that keeps latency low.
func (s *Service) kick() { s.wake.Ring() }
