package insight

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
	"github.com/touchpoint-hub/touchpoint/internal/store"
	"github.com/touchpoint-hub/touchpoint/internal/store/storetest"
)

func TestArrivalForecastRepeatsTheWeeklyRhythm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			t.Fatal(err)
		}
		customers := customer.NewService(db, "US")
		recorder := interaction.NewService(db, customers)
		kind, name := contactpoint.Kind("phone"), "Support line"
		cp, err := contactpoint.NewService(db).Create(ctx, contactpoint.Spec{Kind: &kind, Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		// "Now" is Wednesday 2026-11-18 15:00 in New York; history is the four
		// whole weeks before that day: Wednesdays 10-21 to 11-11 ... Tuesday 11-17.
		now := time.Date(2026, 11, 18, 15, 0, 0, 0, ny)
		var ins []interaction.Input
		add := func(at time.Time, kind, direction string, durMS int64) {
			in := interaction.Input{Identifiers: []customer.RawIdentifier{{Kind: "email", Value: fmt.Sprintf("c%d@example.com", len(ins))}},
				ContactPointID: cp.ID, Kind: kind, Direction: direction, OccurredAt: at}
			if durMS > 0 {
				in.DurationMS = &durMS
			}
			ins = append(ins, in)
		}
		for w := 0; w < 4; w++ {
			monday := time.Date(2026, 11, 16, 9, 10, 0, 0, ny).AddDate(0, 0, -7*w)
			for k := 0; k < 3; k++ { // three calls every Monday 09:00-09:30, 4 and 6 minutes long
				add(monday.Add(time.Duration(k)*time.Minute), "call", interaction.Inbound, int64(240000+60000*(k%2)*2))
			}
			add(monday.AddDate(0, 0, 1).Add(5*time.Hour+30*time.Minute), "email", interaction.Inbound, 0) // Tuesday 14:40
			add(monday.Add(time.Hour), "page_view", interaction.Passive, 0)                               // not an arrival
			add(monday.Add(2*time.Hour), "call", interaction.Outbound, 60000)                             // not an arrival
		}
		add(time.Date(2026, 11, 18, 9, 5, 0, 0, ny), "call", interaction.Inbound, 0)                   // today: outside the history
		add(time.Date(2026, 10, 19, 9, 5, 0, 0, ny).AddDate(0, 0, -7), "call", interaction.Inbound, 0) // five weeks ago
		if _, err := recorder.Record(ctx, ins); err != nil {
			t.Fatal(err)
		}
		s := NewService(db)
		s.now = func() time.Time { return now }
		slots, err := s.ArrivalForecast(ctx, ForecastQuery{Location: ny, Days: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(slots) != 7*48 {
			t.Fatalf("%d slots, want 7 days of 48", len(slots))
		}
		if first := slots[0].Start.In(ny); first != time.Date(2026, 11, 19, 0, 0, 0, 0, ny) {
			t.Fatalf("forecast starts %v, want tomorrow's midnight", first)
		}
		var total float64
		for _, sl := range slots {
			total += sl.Arrivals
			local := sl.Start.In(ny)
			switch {
			case local.Weekday() == time.Monday && local.Hour() == 9 && local.Minute() == 0:
				// (240+360+240)/3 s = 280 s mean handle time.
				if sl.Arrivals != 3 || sl.AHT != 280*time.Second {
					t.Fatalf("Monday 09:00: %+v, want 3 arrivals of 280 s", sl)
				}
			case local.Weekday() == time.Tuesday && local.Hour() == 14 && local.Minute() == 30:
				if sl.Arrivals != 1 || sl.AHT != 0 {
					t.Fatalf("Tuesday 14:30: %+v, want 1 arrival without a duration", sl)
				}
			default:
				if sl.Arrivals != 0 {
					t.Fatalf("%v: %v arrivals, want none", local, sl.Arrivals)
				}
			}
		}
		if total != 4 {
			t.Fatalf("a week forecasts %v arrivals, want 4", total)
		}
		_, err = s.ArrivalForecast(ctx, ForecastQuery{Interval: 7 * time.Minute})
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != "interval_s" {
			t.Fatalf("an interval that does not divide a day: %v", err)
		}
	})
}
