package interaction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// Summary is what the desk's customer panel shows besides the timeline.
type Summary struct {
	// LastRating is the newest rating the customer gave (a survey answer, a
	// review, a rated contact), nil if none.
	LastRating   *int       `json:"last_rating"`
	LastRatingAt *time.Time `json:"last_rating_at"`
	// Lifetime is the sum of purchases and orders, per currency.
	Lifetime []Money `json:"lifetime"`
	// ContactPoints are the contact points of the recent history, most
	// recent first (filled by the caller from a timeline page).
	ContactPoints []UsedContactPoint `json:"contact_points"`
}

// UsedContactPoint is a contact point in a customer's history.
type UsedContactPoint struct {
	ID     id.ID     `json:"id"`
	LastAt time.Time `json:"last_at"`
	Count  int       `json:"count"`
}

// Summarize reads a customer's summary across their merge group.
func (s *Service) Summarize(ctx context.Context, customerID id.ID) (*Summary, error) {
	_, members, err := s.customers.Members(ctx, customerID)
	if err != nil {
		return nil, err
	}
	args := make([]any, len(members))
	for i, m := range members {
		args[i] = m
	}
	in := "customer_id IN (" + store.Placeholders(len(members)) + ")"
	sum := &Summary{Lifetime: []Money{}, ContactPoints: []UsedContactPoint{}}
	// Both read small partial indexes (interactions_rated, interactions_valued)
	// instead of the customer's whole history.
	var rating, at sql.NullInt64
	err = s.db.QueryRow(ctx, "SELECT rating, occurred_at FROM interactions WHERE "+in+
		" AND rating IS NOT NULL ORDER BY occurred_at DESC LIMIT 1", args...).Scan(&rating, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading the last rating: %w", err)
	}
	if rating.Valid {
		r, t := int(rating.Int64), time.UnixMicro(at.Int64).UTC()
		sum.LastRating, sum.LastRatingAt = &r, &t
	}
	rows, err := s.db.Query(ctx, "SELECT currency, SUM(value_minor) FROM interactions WHERE "+in+
		" AND value_minor IS NOT NULL AND kind IN ('purchase', 'order') GROUP BY currency ORDER BY currency", args...)
	if err != nil {
		return nil, fmt.Errorf("reading lifetime value: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m Money
		if err := rows.Scan(&m.Currency, &m.Minor); err != nil {
			return nil, err
		}
		sum.Lifetime = append(sum.Lifetime, m)
	}
	return sum, rows.Err()
}

// UsedContactPoints counts the contact points in a page of a timeline, most
// recent first: the "recent contact points" of the customer panel.
func UsedContactPoints(items []*Interaction) []UsedContactPoint {
	out := []UsedContactPoint{}
	at := map[id.ID]int{}
	for _, it := range items {
		if it.ContactPointID == nil {
			continue
		}
		k, ok := at[*it.ContactPointID]
		if !ok {
			k = len(out)
			at[*it.ContactPointID] = k
			out = append(out, UsedContactPoint{ID: *it.ContactPointID, LastAt: it.OccurredAt})
		}
		out[k].Count++
	}
	return out
}
