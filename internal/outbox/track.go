package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// rank orders the states a provider reports, so that callbacks arriving
// out of order never move a delivery back (delivered, then a late "sent").
// A failure after delivery is not believed either.
func rank(state string) int {
	switch state {
	case Queued:
		return 1
	case Sent:
		return 2
	case Failed:
		return 3
	case Delivered:
		return 4
	case Read:
		return 5
	}
	return 0
}

// Track records what a provider reports of a message it took (a delivery
// status callback): the delivery found by the contact point and the
// provider's message id moves to state (sent, delivered, read or failed),
// and so does its interaction's delivery_status. It reports false when no
// delivery has that id (not ours, or the callback outran the send's
// record) or the state is not newer than the stored one.
func (s *Service) Track(ctx context.Context, cpID id.ID, providerMessageID, state, errText string) (bool, error) {
	if rank(state) == 0 || providerMessageID == "" {
		return false, nil
	}
	if len(errText) > maxErrorLen {
		errText = errText[:maxErrorLen]
	}
	var interactionID id.ID
	changed := false
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		changed = false
		var deliveryID id.ID
		var cur string
		q := "SELECT id, interaction_id, state FROM outbound_deliveries WHERE contact_point_id = ? AND provider_message_id = ?"
		if tx.Dialect() == store.Postgres {
			q += " FOR UPDATE"
		}
		err := tx.QueryRow(ctx, q, cpID, providerMessageID).Scan(&deliveryID, &interactionID, &cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if rank(state) <= rank(cur) {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE outbound_deliveries SET state = ?, last_error = CASE WHEN ? = '' THEN last_error ELSE ? END,
			next_attempt_at = NULL, updated_at = ? WHERE id = ?`,
			state, errText, errText, s.now().UTC().UnixMicro(), deliveryID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE interactions SET delivery_status = ? WHERE id = ?", state, interactionID); err != nil {
			return err
		}
		changed = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("outbox: tracking message %s: %w", providerMessageID, err)
	}
	if changed {
		if it, err := s.interactions.Get(ctx, interactionID); err == nil {
			s.publish(ctx, it, state, errText)
		}
	}
	return changed, nil
}
