package interaction

import (
	"context"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// LastInbound returns, by contact point, when its latest inbound contact
// since the given time occurred. It reads the inbound-time index
// (interactions_inbound_time), so since bounds the work.
func (s *Service) LastInbound(ctx context.Context, since time.Time) (map[id.ID]time.Time, error) {
	rows, err := s.db.Query(ctx, `SELECT contact_point_id, MAX(occurred_at) FROM interactions
		WHERE direction = 'inbound' AND occurred_at >= ? AND contact_point_id IS NOT NULL GROUP BY contact_point_id`, since.UTC().UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("reading the last inbound contacts: %w", err)
	}
	defer rows.Close()
	out := map[id.ID]time.Time{}
	for rows.Next() {
		var cp id.ID
		var at int64
		if err := rows.Scan(&cp, &at); err != nil {
			return nil, err
		}
		out[cp] = time.UnixMicro(at).UTC()
	}
	return out, rows.Err()
}
