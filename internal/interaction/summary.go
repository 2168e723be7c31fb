package interaction

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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
	// ContactPoints are the contact points used, most recent first.
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
	in := "customer_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(members)), ",") + ")"
	sum := &Summary{Lifetime: []Money{}, ContactPoints: []UsedContactPoint{}}
	var rating, at sql.NullInt64
	err = s.db.QueryRow(ctx, "SELECT rating, occurred_at FROM interactions WHERE "+in+
		" AND rating IS NOT NULL ORDER BY occurred_at DESC LIMIT 1", args...).Scan(&rating, &at)
	if err != nil && err != sql.ErrNoRows {
		return nil, fmt.Errorf("reading the last rating: %w", err)
	}
	if rating.Valid {
		r, t := int(rating.Int64), time.UnixMicro(at.Int64).UTC()
		sum.LastRating, sum.LastRatingAt = &r, &t
	}
	rows, err := s.db.Query(ctx, "SELECT currency, SUM(value_minor) FROM interactions WHERE "+in+
		" AND kind IN ('purchase', 'order') AND value_minor IS NOT NULL GROUP BY currency ORDER BY currency", args...)
	if err != nil {
		return nil, fmt.Errorf("reading lifetime value: %w", err)
	}
	for rows.Next() {
		var m Money
		if err := rows.Scan(&m.Currency, &m.Minor); err != nil {
			rows.Close()
			return nil, err
		}
		sum.Lifetime = append(sum.Lifetime, m)
	}
	rows.Close()
	rows, err = s.db.Query(ctx, "SELECT contact_point_id, MAX(occurred_at), COUNT(*) FROM interactions WHERE "+in+
		" AND contact_point_id IS NOT NULL GROUP BY contact_point_id ORDER BY MAX(occurred_at) DESC LIMIT 8", args...)
	if err != nil {
		return nil, fmt.Errorf("reading contact points used: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u UsedContactPoint
		var last int64
		if err := rows.Scan(&u.ID, &last, &u.Count); err != nil {
			return nil, err
		}
		u.LastAt = time.UnixMicro(last).UTC()
		sum.ContactPoints = append(sum.ContactPoints, u)
	}
	return sum, rows.Err()
}
