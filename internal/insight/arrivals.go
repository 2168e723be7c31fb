// Package insight answers questions about what happened across contact
// points: for now, how many contacts arrive when, to forecast staffing.
package insight

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/store"
)

// Service reads the store for analytics.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns the insight service.
func NewService(db *store.DB) *Service { return &Service{db: db, now: time.Now} }

// ForecastQuery asks for the arrivals expected in the days ahead.
type ForecastQuery struct {
	// From is the first day forecast (its midnight in Location); default tomorrow.
	From time.Time
	// Days forecast, default 7, at most 28.
	Days int
	// Interval is the length of one slot, default 30 minutes; it must divide a day.
	Interval time.Duration
	// Weeks of history averaged, default 4, at most 26.
	Weeks int
	// Location is the company's time zone: weekdays and times of day are its.
	Location *time.Location
	// Channels, when set, keeps only contacts of these interaction kinds
	// (call, email, chat...); default: every inbound conversation.
	Kinds []string
}

// Slot is one interval of the forecast.
type Slot struct {
	Start    time.Time     `json:"start"`
	Arrivals float64       `json:"arrivals"` // mean over the weeks of history
	AHT      time.Duration `json:"aht"`      // mean handle time of those contacts that carry a duration, 0 if none
}

// conversational kinds count as arrivals for staffing; transactions and
// self-service do not need an agent.
var conversational = []string{"message", "email", "chat", "sms", "call", "callback", "voicemail", "visit", "social_post"}

// ArrivalForecast forecasts inbound contacts per interval for the days ahead
// as the mean of the same weekday and time of day over the recent weeks: the
// usual first forecast of a contact center, which repeats its weekly rhythm.
func (s *Service) ArrivalForecast(ctx context.Context, q ForecastQuery) ([]Slot, error) {
	if q.Location == nil {
		q.Location = time.UTC
	}
	if q.Days == 0 {
		q.Days = 7
	}
	if q.Days < 1 || q.Days > 28 {
		return nil, errs.Invalidf("days", "must be between 1 and 28")
	}
	if q.Interval == 0 {
		q.Interval = 30 * time.Minute
	}
	if q.Interval < 5*time.Minute || (24*time.Hour)%q.Interval != 0 {
		return nil, errs.Invalidf("interval_s", "must be at least 300 and divide a day (e.g. 900, 1800, 3600)")
	}
	if q.Weeks == 0 {
		q.Weeks = 4
	}
	if q.Weeks < 1 || q.Weeks > 26 {
		return nil, errs.Invalidf("weeks", "must be between 1 and 26")
	}
	kinds := q.Kinds
	if len(kinds) == 0 {
		kinds = conversational
	}
	now := s.now().In(q.Location)
	if q.From.IsZero() {
		q.From = now.AddDate(0, 0, 1)
	}
	from := midnight(q.From.In(q.Location))
	// History: the whole weeks before today.
	histEnd := midnight(now)
	histStart := histEnd.AddDate(0, 0, -7*q.Weeks)

	perDay := int((24 * time.Hour) / q.Interval)
	type acc struct {
		n      float64
		durSum float64
		durN   float64
	}
	buckets := make([]acc, 7*perDay) // weekday × slot of day
	args := []any{histStart.UnixMicro(), histEnd.UnixMicro()}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := s.db.Query(ctx, `SELECT occurred_at, duration_ms FROM interactions
		WHERE direction = 'inbound' AND occurred_at >= ? AND occurred_at < ? AND kind IN (`+store.Placeholders(len(kinds))+")", args...)
	if err != nil {
		return nil, fmt.Errorf("reading the history of arrivals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var dur sql.NullInt64
		if err := rows.Scan(&at, &dur); err != nil {
			return nil, err
		}
		t := time.UnixMicro(at).In(q.Location)
		b := &buckets[int(t.Weekday())*perDay+slotOf(t, q.Interval)]
		b.n++
		if dur.Valid && dur.Int64 > 0 {
			b.durSum += float64(dur.Int64)
			b.durN++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Slot, 0, q.Days*perDay)
	for d := 0; d < q.Days; d++ {
		day := from.AddDate(0, 0, d)
		for i := 0; i < perDay; i++ {
			start := day.Add(time.Duration(i) * q.Interval)
			if start.Day() != day.Day() && i > 0 { // a short day (DST): no such slot
				continue
			}
			b := buckets[int(day.Weekday())*perDay+i]
			sl := Slot{Start: start.UTC(), Arrivals: b.n / float64(q.Weeks)}
			if b.durN > 0 {
				sl.AHT = time.Duration(b.durSum/b.durN) * time.Millisecond
			}
			out = append(out, sl)
		}
	}
	return out, nil
}

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// slotOf is the index of the interval of day t falls in, by wall clock.
func slotOf(t time.Time, interval time.Duration) int {
	h, m, s := t.Clock()
	since := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
	return min(int(since/interval), int((24*time.Hour)/interval)-1)
}
