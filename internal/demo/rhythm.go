package demo

import (
	"math/rand/v2"
	"time"
)

// rhythm is when in the week and the day a kind of contact happens.
type rhythm struct {
	days  [7]float64  // weight per weekday, Sunday first
	hours [24]float64 // weight per local hour
}

var (
	// The call center: busiest on Mondays and in the mornings, closed on Sundays.
	callCenter = rhythm{
		days:  [7]float64{0, 10, 7, 6, 6, 5, 2},
		hours: [24]float64{8: 5, 9: 10, 10: 10, 11: 8, 12: 5, 13: 5, 14: 6, 15: 5, 16: 4, 17: 3, 18: 2, 19: 1},
	}
	// Stores: Saturdays and late afternoons.
	storeHours = rhythm{
		days:  [7]float64{3, 4, 4, 4, 5, 7, 10},
		hours: [24]float64{9: 2, 10: 4, 11: 6, 12: 7, 13: 6, 14: 5, 15: 5, 16: 6, 17: 8, 18: 8, 19: 5, 20: 2},
	}
	// The web shop and the app: every day, evenings, Sundays a little more.
	webHours = rhythm{
		days: [7]float64{9, 8, 7, 7, 7, 6, 7},
		hours: [24]float64{0: 2, 1: 1, 2: 0.5, 3: 0.3, 4: 0.3, 5: 0.5, 6: 1.5, 7: 3, 8: 4, 9: 4, 10: 4, 11: 4,
			12: 6, 13: 5, 14: 4, 15: 4, 16: 4, 17: 5, 18: 6, 19: 8, 20: 10, 21: 9, 22: 6, 23: 3},
	}
	// Visits at home or at the office: weekdays, working hours.
	officeHours = rhythm{
		days:  [7]float64{0, 5, 5, 5, 5, 5, 1},
		hours: [24]float64{8: 6, 9: 8, 10: 8, 11: 7, 12: 4, 13: 6, 14: 7, 15: 6, 16: 4},
	}
	// Batch runs: bills and reminders go out early in the morning on weekdays.
	batchRun = rhythm{
		days:  [7]float64{0, 1, 1, 1, 1, 1, 0},
		hours: [24]float64{5: 1, 6: 1},
	}
)

// at returns a time on day (a local calendar day of country c, given as any
// instant inside it) following the hour weights of the rhythm.
func (rh *rhythm) at(r *rand.Rand, c *country, day time.Time) time.Time {
	loc := c.loc
	d := day.In(loc)
	h := weighted(r, rh.hours[:])
	return time.Date(d.Year(), d.Month(), d.Day(), h, r.IntN(60), r.IntN(60), 0, loc).UTC()
}

// around returns a time within about spread days after from (never before
// it), on a day the rhythm likes (drawn by the weekday weights) and at an
// hour it likes.
func (rh *rhythm) around(r *rand.Rand, c *country, from time.Time, spreadDays int) time.Time {
	if spreadDays < 1 {
		spreadDays = 1
	}
	var best time.Time
	for range 8 {
		d := from.Add(time.Duration(r.IntN(spreadDays)) * 24 * time.Hour)
		wd := c.localTime(d).Weekday()
		best = d
		if r.Float64()*10 < rh.days[wd] {
			break
		}
	}
	t := rh.at(r, c, best)
	if t.Before(from) {
		t = t.Add(24 * time.Hour) // never before what caused it
	}
	return t
}

// open tells whether the rhythm is open at t (its day and hour have weight).
func (rh *rhythm) open(c *country, t time.Time) bool {
	l := c.localTime(t)
	return rh.days[l.Weekday()] > 0 && rh.hours[l.Hour()] > 0
}

// nextOpen returns t if the rhythm is open then (its hour and day have
// weight), else the next open hour, with a random minute.
func (rh *rhythm) nextOpen(r *rand.Rand, c *country, t time.Time) time.Time {
	if rh.open(c, t) {
		return t
	}
	l := c.localTime(t)
	// Closed: the contact waits for the next opening, when the queue fills up.
	for i := 1; i <= 8*24; i++ {
		n := l.Add(time.Duration(i) * time.Hour)
		if rh.days[n.Weekday()] > 0 && rh.hours[n.Hour()] > 0 {
			start := time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), 0, 0, 0, n.Location())
			return start.Add(time.Duration(r.IntN(150)) * time.Minute).UTC()
		}
	}
	return t
}

// weighted returns an index drawn by the weights.
func weighted(r *rand.Rand, w []float64) int {
	var sum float64
	for _, v := range w {
		sum += v
	}
	x := r.Float64() * sum
	for i, v := range w {
		if x < v {
			return i
		}
		x -= v
	}
	return len(w) - 1
}
