package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// What the desk shows of deliveries and what it may do to them.

// Retry queues a failed delivery again, due now. Its attempts are kept, so
// a delivery that used up its attempts gets exactly one more.
func (s *Service) Retry(ctx context.Context, interactionID id.ID) error {
	now := s.now().UTC().UnixMicro()
	err := s.db.Write(ctx, func(ctx context.Context, tx *store.Tx) error {
		var state string
		err := tx.QueryRow(ctx, "SELECT state FROM outbound_deliveries WHERE interaction_id = ?", interactionID).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFoundf("delivery of interaction %s", interactionID)
		}
		if err != nil {
			return err
		}
		if state != Failed {
			return errs.Conflictf("this message is %s, not failed; only failed messages can be retried", state)
		}
		if _, err := tx.Exec(ctx, "UPDATE outbound_deliveries SET state = ?, next_attempt_at = ?, updated_at = ? WHERE interaction_id = ?",
			Queued, now, now, interactionID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE interactions SET delivery_status = ? WHERE id = ?", Queued, interactionID)
		return err
	})
	if err != nil {
		return fmt.Errorf("retrying the delivery of interaction %s: %w", interactionID, err)
	}
	s.kick()
	if it, err := s.interactions.Get(ctx, interactionID); err == nil {
		s.publish(ctx, it, Queued, "")
	}
	return nil
}

// Statuses returns the deliveries of the given interactions (those that
// have one), by interaction.
func (s *Service) Statuses(ctx context.Context, interactionIDs []id.ID) (map[id.ID]*Status, error) {
	out := map[id.ID]*Status{}
	if len(interactionIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(interactionIDs))
	for i, v := range interactionIDs {
		args[i] = v
	}
	rows, err := s.db.Query(ctx, `SELECT id, interaction_id, state, attempts, recipient, last_error, provider_message_id, next_attempt_at
		FROM outbound_deliveries WHERE interaction_id IN (`+store.Placeholders(len(args))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("reading deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Status
		var next sql.NullInt64
		if err := rows.Scan(&st.ID, &st.InteractionID, &st.State, &st.Attempts, &st.Recipient, &st.LastError, &st.ProviderMessageID, &next); err != nil {
			return nil, err
		}
		if next.Valid {
			t := time.UnixMicro(next.Int64).UTC()
			st.NextAttemptAt = &t
		}
		out[st.InteractionID] = &st
	}
	return out, rows.Err()
}

// FailuresSince counts, by contact point, the deliveries that failed for
// good and were last tried since the given time.
func (s *Service) FailuresSince(ctx context.Context, since time.Time) (map[id.ID]int, error) {
	rows, err := s.db.Query(ctx, "SELECT contact_point_id, COUNT(*) FROM outbound_deliveries WHERE state = ? AND updated_at >= ? GROUP BY contact_point_id",
		Failed, since.UTC().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("counting failed deliveries: %w", err)
	}
	defer rows.Close()
	out := map[id.ID]int{}
	for rows.Next() {
		var cp id.ID
		var n int
		if err := rows.Scan(&cp, &n); err != nil {
			return nil, err
		}
		out[cp] = n
	}
	return out, rows.Err()
}
