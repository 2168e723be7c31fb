package interaction

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/id"
	"github.com/touchpoint-hub/touchpoint/internal/keyset"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// TimelineQuery filters and pages a customer's timeline.
type TimelineQuery struct {
	ContactPointID id.ID
	Kinds          []string
	Direction      string
	Since, Until   time.Time // Since inclusive, Until exclusive
	Limit          int       // default 50, at most 500
	Cursor         string    // from the previous page's NextCursor
}

// Page is one page of a timeline, newest first.
type Page struct {
	Items      []*Interaction `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

const selectColumns = `id, customer_id, contact_point_id, kind, direction, occurred_at, duration_ms, staff_id,
	staff_name, case_id, reason, outcome, subject, content, summary, sentiment, rating, value_minor, currency,
	campaign, campaign_source, campaign_medium, campaign_term, campaign_content, promo_code, journey_stage,
	properties, source, external_id, received_at, delivery_status`

// rowScanner reads interaction rows. Its scan targets are made once per
// query: built for every row, the 31 destinations and the nullable columns'
// holders were half of what a timeline page allocated.
type rowScanner struct {
	it                               Interaction
	cp, staff, caseID, dur, value, r sql.NullInt64
	sentiment                        sql.NullFloat64
	occurred, received               int64
	ext                              sql.NullString
	currency                         string
	dest                             []any
}

func newRowScanner() *rowScanner {
	s := &rowScanner{}
	it := &s.it
	s.dest = []any{&it.ID, &it.CustomerID, &s.cp, &it.Kind, &it.Direction, &s.occurred, &s.dur, &s.staff,
		&it.StaffName, &s.caseID, &it.Reason, &it.Outcome, &it.Subject, &it.Content, &it.Summary, &s.sentiment,
		&s.r, &s.value, &s.currency, &it.Campaign.Name, &it.Campaign.Source, &it.Campaign.Medium,
		&it.Campaign.Term, &it.Campaign.Content, &it.PromoCode, &it.JourneyStage, (*[]byte)(&it.Properties),
		&it.Source, &s.ext, &s.received, &it.DeliveryStatus}
	return s
}

// scannedInteraction holds an interaction and what its optional fields
// point to, so a row costs one allocation for all of them.
type scannedInteraction struct {
	it                Interaction
	cp, staff, caseID id.ID
	dur               int64
	sentiment         float64
	rating            int
	value             Money
}

func (s *rowScanner) scan(r interface{ Scan(...any) error }) (*Interaction, error) {
	if err := r.Scan(s.dest...); err != nil {
		return nil, err
	}
	out := &scannedInteraction{it: s.it}
	it := &out.it
	// Scan gave Properties a slice of its own; the scratch must not keep it.
	s.it.Properties = nil
	if s.cp.Valid {
		out.cp = id.ID(s.cp.Int64)
		it.ContactPointID = &out.cp
	}
	if s.staff.Valid {
		out.staff = id.ID(s.staff.Int64)
		it.StaffID = &out.staff
	}
	if s.caseID.Valid {
		out.caseID = id.ID(s.caseID.Int64)
		it.CaseID = &out.caseID
	}
	if s.dur.Valid {
		out.dur = s.dur.Int64
		it.DurationMS = &out.dur
	}
	if s.sentiment.Valid {
		out.sentiment = s.sentiment.Float64
		it.Sentiment = &out.sentiment
	}
	if s.value.Valid {
		out.value = Money{Minor: s.value.Int64, Currency: s.currency}
		it.Value = &out.value
	}
	if s.r.Valid {
		out.rating = int(s.r.Int64)
		it.Rating = &out.rating
	}
	it.OccurredAt = time.UnixMicro(s.occurred).UTC()
	it.ReceivedAt = time.UnixMicro(s.received).UTC()
	it.ExternalID = s.ext.String
	return it, nil
}

// Get returns one interaction.
func (s *Service) Get(ctx context.Context, interactionID id.ID) (*Interaction, error) {
	it, err := newRowScanner().scan(s.db.QueryRow(ctx, "SELECT "+selectColumns+" FROM interactions WHERE id = ?", interactionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.NotFoundf("interaction %s", interactionID)
	}
	return it, err
}

// Timeline returns a customer's interactions newest first, across every
// customer merged into it.
func (s *Service) Timeline(ctx context.Context, customerID id.ID, q TimelineQuery) (*Page, error) {
	_, members, err := s.customers.Members(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	if q.Limit > 500 {
		return nil, errs.Invalidf("limit", "must be at most 500")
	}
	var where []string
	var args []any
	if len(members) == 1 {
		where = append(where, "customer_id = ?")
		args = append(args, members[0])
	} else {
		where = append(where, "customer_id IN ("+store.Placeholders(len(members))+")")
		for _, m := range members {
			args = append(args, m)
		}
	}
	if q.ContactPointID != 0 {
		where = append(where, "contact_point_id = ?")
		args = append(args, q.ContactPointID)
	}
	if len(q.Kinds) > 0 {
		where = append(where, "kind IN ("+store.Placeholders(len(q.Kinds))+")")
		for _, k := range q.Kinds {
			args = append(args, k)
		}
	}
	if q.Direction != "" {
		if q.Direction != Inbound && q.Direction != Outbound && q.Direction != Passive {
			return nil, errs.Invalidf("direction", "must be inbound, outbound or passive")
		}
		where = append(where, "direction = ?")
		args = append(args, q.Direction)
	}
	if !q.Since.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, q.Since.UnixMicro())
	}
	if !q.Until.IsZero() {
		where = append(where, "occurred_at < ?")
		args = append(args, q.Until.UnixMicro())
	}
	if q.Cursor != "" {
		at, last, err := keyset.Decode(q.Cursor)
		if err != nil {
			return nil, errs.Invalidf("cursor", "is not a cursor from this timeline")
		}
		where = append(where, "(occurred_at < ? OR (occurred_at = ? AND id < ?))")
		args = append(args, at, at, last)
	}
	rows, err := s.db.Query(ctx, "SELECT "+selectColumns+" FROM interactions WHERE "+strings.Join(where, " AND ")+
		" ORDER BY occurred_at DESC, id DESC LIMIT ?", append(args, q.Limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("reading timeline: %w", err)
	}
	defer rows.Close()
	page := &Page{Items: make([]*Interaction, 0, q.Limit)}
	sc := newRowScanner()
	for rows.Next() {
		it, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		last := page.Items[q.Limit-1]
		page.NextCursor = keyset.Encode(last.OccurredAt.UnixMicro(), last.ID)
	}
	return page, nil
}

// Count is the number of interactions stored.
func (s *Service) Count(ctx context.Context) (int64, error) {
	return s.db.Counter(ctx, counterName)
}

// counterName is the running total of interactions.
const counterName = "interactions"

// CaseTimeline returns the interactions on a case, newest first (by
// occurred_at, then id), one page at a time: limit defaults to 50 and may be
// at most 500; cursor is the previous page's NextCursor.
func (s *Service) CaseTimeline(ctx context.Context, caseID id.ID, cursor string, limit int) (*Page, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		return nil, errs.Invalidf("limit", "must be at most 500")
	}
	// Written to use the index interactions_case (case_id, occurred_at, id).
	where := "case_id = ?"
	args := []any{caseID}
	if cursor != "" {
		at, last, err := keyset.Decode(cursor)
		if err != nil {
			return nil, errs.Invalidf("cursor", "is not a cursor from this timeline")
		}
		where += " AND (occurred_at < ? OR (occurred_at = ? AND id < ?))"
		args = append(args, at, at, last)
	}
	rows, err := s.db.Query(ctx, "SELECT "+selectColumns+" FROM interactions WHERE "+where+
		" ORDER BY occurred_at DESC, id DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, fmt.Errorf("reading the timeline of case %s: %w", caseID, err)
	}
	defer rows.Close()
	page := &Page{Items: make([]*Interaction, 0, min(limit, 64))}
	sc := newRowScanner()
	for rows.Next() {
		it, err := sc.scan(rows)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = keyset.Encode(last.OccurredAt.UnixMicro(), last.ID)
	}
	return page, nil
}
