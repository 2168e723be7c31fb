package api

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/staffing"
)

// staffingResult is the answer of the staffing calculators.
type staffingResult struct {
	Agents             int      `json:"agents"`
	ScheduledAgents    int      `json:"scheduled_agents"`
	ServiceLevel       float64  `json:"service_level"`
	WaitProbability    float64  `json:"wait_probability"`
	ASASeconds         float64  `json:"asa_s"`
	Occupancy          float64  `json:"occupancy"`
	TrafficErlangs     float64  `json:"traffic_erlangs"`
	AbandonProbability *float64 `json:"abandon_probability,omitempty"` // Erlang A only
	PatienceSeconds    *float64 `json:"patience_s,omitempty"`          // Erlang A only
}

// staffingParams are the query parameters of the calculators, in the order
// the error messages list them; patience_s is Erlang A's only.
var staffingParams = []string{"arrivals", "interval_s", "aht_s", "target_sl", "target_s", "max_occupancy", "shrinkage", "patience_s"}

// staffingErlangC sizes a forecast interval with Erlang C.
func (a *API) staffingErlangC(w http.ResponseWriter, r *http.Request) {
	f, err := staffingForecast(r.URL.Query(), false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := staffing.ErlangC(f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	send(w, http.StatusOK, toStaffingResult(res))
}

// staffingErlangA sizes a forecast interval with Erlang A (callers abandon).
func (a *API) staffingErlangA(w http.ResponseWriter, r *http.Request) {
	f, err := staffingForecast(r.URL.Query(), true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := staffing.ErlangA(f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := toStaffingResult(res)
	patience := float64(f.Patience) / float64(time.Second)
	out.AbandonProbability, out.PatienceSeconds = &res.AbandonProbability, &patience
	send(w, http.StatusOK, out)
}

func toStaffingResult(r staffing.Result) staffingResult {
	return staffingResult{
		Agents:          r.Agents,
		ScheduledAgents: r.ScheduledAgents,
		ServiceLevel:    r.ServiceLevel,
		WaitProbability: r.WaitProbability,
		ASASeconds:      float64(r.ASA) / float64(time.Second), // correctly rounded, unlike Duration.Seconds
		Occupancy:       r.Occupancy,
		TrafficErlangs:  r.TrafficErlangs,
	}
}

// staffingForecast reads the query parameters. Unknown and repeated
// parameters are refused, so that a misspelt optional one (which would
// otherwise fall back to its default) does not go unnoticed. max_occupancy
// defaults to 1 (no cap) and shrinkage to 0; the others are required.
func staffingForecast(q url.Values, erlangA bool) (staffing.Forecast, error) {
	known := staffingParams
	if !erlangA {
		known = known[:len(known)-1]
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names) // the same error for the same query every time
	for _, name := range names {
		switch {
		case name == "patience_s" && !erlangA:
			return staffing.Forecast{}, errs.Invalidf(name, "is a parameter of /api/v1/staffing/erlang-a; Erlang C assumes callers never hang up")
		case !slices.Contains(known, name):
			return staffing.Forecast{}, errs.Invalidf(name, "is not a parameter of this route, which takes %s", strings.Join(known, ", "))
		case len(q[name]) > 1:
			return staffing.Forecast{}, errs.Invalidf(name, "is given more than once")
		}
	}
	var f staffing.Forecast
	var err error
	number := func(name string, required bool, dflt float64) float64 {
		if err != nil {
			return 0
		}
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			if required {
				err = errs.Invalidf(name, "is required")
			}
			return dflt
		}
		n, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			err = errs.Invalidf(name, "must be a number, not %q", v)
			return 0
		}
		return n
	}
	duration := func(name string) time.Duration {
		s := number(name, true, 0)
		if err != nil {
			return 0
		}
		if math.Abs(s) > 1e9 {
			err = errs.Invalidf(name, "must be at most 1000000000 seconds")
			return 0
		}
		d := time.Duration(math.Round(s * float64(time.Second)))
		if s > 0 && d == 0 {
			err = errs.Invalidf(name, "must be at least a nanosecond")
		}
		return d
	}
	f.Arrivals = number("arrivals", true, 0)
	f.Interval = duration("interval_s")
	f.AHT = duration("aht_s")
	f.TargetSL = number("target_sl", true, 0)
	f.TargetTime = duration("target_s")
	f.MaxOccupancy = number("max_occupancy", false, 1)
	f.Shrinkage = number("shrinkage", false, 0)
	if erlangA {
		f.Patience = duration("patience_s")
	}
	if err == nil && f.MaxOccupancy == 0 {
		// 0 would read as "no cap" in package staffing; here it is a mistake.
		err = errs.Invalidf("max_occupancy", "must be a share above 0 and at most 1 (1: no cap)")
	}
	return f, err
}
