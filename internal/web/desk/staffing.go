package desk

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/insight"
	"github.com/touchpoint-hub/touchpoint/internal/staffing"
)

// staffingForm is the staffing page's form, as typed (kept on redisplay).
type staffingForm struct {
	Arrivals, IntervalMin, AHT, TargetSL, TargetS, MaxOcc, Shrinkage, Patience, Weeks, Days, TZ string
}

// number reads one field of the form; empty gives def.
func number(field, v string, def float64) (float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, errs.Invalidf(field, "%q is not a number", v)
	}
	return f, nil
}

// staffingPage answers "how many agents do we need": a calculator for one
// interval, and a plan for the days ahead from the store's own history.
func (d *Desk) staffingPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	f := staffingForm{Arrivals: q.Get("arrivals"), IntervalMin: q.Get("interval_min"), AHT: q.Get("aht_s"), TargetSL: q.Get("target_sl"),
		TargetS: q.Get("target_s"), MaxOcc: q.Get("max_occupancy"), Shrinkage: q.Get("shrinkage"), Patience: q.Get("patience_s"),
		Weeks: q.Get("weeks"), Days: q.Get("days"), TZ: q.Get("tz")}
	data := map[string]any{"Form": f}
	goal, err := d.staffingGoal(f)
	if err != nil {
		data["Error"] = err.Error()
		w.WriteHeader(http.StatusUnprocessableEntity)
		d.render(w, r, "staffing", v, data)
		return
	}
	// The calculator, when arrivals are given.
	if strings.TrimSpace(f.Arrivals) != "" {
		one := goal
		if one.Arrivals, err = number("arrivals", f.Arrivals, 0); err == nil {
			var c, a staffing.Result
			if c, err = staffing.ErlangC(one); err == nil {
				data["ErlangC"] = c
				if one.Patience > 0 {
					if a, err = staffing.ErlangA(one); err == nil {
						data["ErlangA"] = a
					}
				}
			}
		}
		if err != nil {
			data["Error"] = err.Error()
		}
	}
	// The plan for the days ahead.
	loc := time.UTC
	if tz := strings.TrimSpace(f.TZ); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			data["Error"] = "tz: " + tz + " is not a time zone (e.g. America/New_York)"
			loc = time.UTC
		}
	} else if cals, err := d.Cases.Calendars(r.Context()); err == nil && len(cals) > 0 {
		if l, err := time.LoadLocation(cals[0].Timezone); err == nil {
			loc = l
		}
	}
	weeks, err1 := number("weeks", f.Weeks, 4)
	days, err2 := number("days", f.Days, 7)
	if err := firstErr(err1, err2); err != nil {
		data["Error"] = err.Error()
	} else {
		slots, err := d.Insight.ArrivalForecast(r.Context(), insight.ForecastQuery{Days: int(days), Weeks: int(weeks), Interval: goal.Interval, Location: loc})
		if err != nil {
			data["Error"] = err.Error()
		} else {
			demand := make([]staffing.Demand, len(slots))
			for i, s := range slots {
				demand[i] = staffing.Demand{Start: s.Start, Arrivals: s.Arrivals, AHT: s.AHT}
			}
			plan, summary, err := staffing.Plan(demand, goal, loc)
			if err != nil {
				data["Error"] = err.Error()
			} else {
				var busy []staffing.Staffed
				for _, p := range plan {
					if p.Agents > 0 {
						busy = append(busy, p)
					}
				}
				data["Plan"], data["Days"], data["Location"] = busy, summary, loc
			}
		}
	}
	d.render(w, r, "staffing", v, data)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// staffingGoal reads the targets shared by the calculator and the plan.
func (d *Desk) staffingGoal(f staffingForm) (staffing.Forecast, error) {
	var g staffing.Forecast
	interval, err := number("interval_min", f.IntervalMin, 30)
	if err != nil {
		return g, err
	}
	aht, err := number("aht_s", f.AHT, 300)
	if err != nil {
		return g, err
	}
	sl, err := number("target_sl", f.TargetSL, 80)
	if err != nil {
		return g, err
	}
	ts, err := number("target_s", f.TargetS, 20)
	if err != nil {
		return g, err
	}
	occ, err := number("max_occupancy", f.MaxOcc, 85)
	if err != nil {
		return g, err
	}
	shrink, err := number("shrinkage", f.Shrinkage, 30)
	if err != nil {
		return g, err
	}
	patience, err := number("patience_s", f.Patience, 0)
	if err != nil {
		return g, err
	}
	if interval < 5 || interval > 1440 {
		return g, errs.Invalidf("interval_min", "must be between 5 and 1440 minutes")
	}
	g = staffing.Forecast{Interval: time.Duration(interval * float64(time.Minute)), AHT: time.Duration(aht * float64(time.Second)),
		TargetSL: sl / 100, TargetTime: time.Duration(ts * float64(time.Second)), MaxOccupancy: occ / 100,
		Shrinkage: shrink / 100, Patience: time.Duration(patience * float64(time.Second))}
	// Check the goal once with a nominal load, so that a bad target is named
	// before any plan is made.
	probe := g
	probe.Arrivals = 1
	if _, err := staffing.ErlangC(probe); err != nil {
		return g, err
	}
	return g, nil
}
