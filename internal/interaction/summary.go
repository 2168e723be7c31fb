package interaction

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	// One pass over the customer's rows (through the timeline index) serves
	// every figure; three aggregate queries read the same rows three times.
	rows, err := s.db.Query(ctx, "SELECT contact_point_id, kind, value_minor, currency, rating, occurred_at FROM interactions WHERE "+in+
		" ORDER BY occurred_at DESC", args...)
	if err != nil {
		return nil, fmt.Errorf("summarizing customer %s: %w", customerID, err)
	}
	defer rows.Close()
	used := map[id.ID]int{}
	lifetime := map[string]int64{}
	var currencies []string
	for rows.Next() {
		var cp, value, rating sql.NullInt64
		var kind, currency string
		var at int64
		if err := rows.Scan(&cp, &kind, &value, &currency, &rating, &at); err != nil {
			return nil, err
		}
		if rating.Valid && sum.LastRating == nil {
			r, t := int(rating.Int64), time.UnixMicro(at).UTC()
			sum.LastRating, sum.LastRatingAt = &r, &t
		}
		if value.Valid && (kind == "purchase" || kind == "order") {
			if _, ok := lifetime[currency]; !ok {
				currencies = append(currencies, currency)
			}
			lifetime[currency] += value.Int64
		}
		if cp.Valid {
			k, ok := used[id.ID(cp.Int64)]
			if !ok {
				k = len(sum.ContactPoints)
				used[id.ID(cp.Int64)] = k
				sum.ContactPoints = append(sum.ContactPoints, UsedContactPoint{ID: id.ID(cp.Int64), LastAt: time.UnixMicro(at).UTC()})
			}
			sum.ContactPoints[k].Count++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		sum.Lifetime = append(sum.Lifetime, Money{Minor: lifetime[c], Currency: c})
	}
	if len(sum.ContactPoints) > 8 {
		sum.ContactPoints = sum.ContactPoints[:8]
	}
	return sum, nil
}
