package staffing

import (
	"time"
)

// Demand is the expected load of one interval.
type Demand struct {
	Start    time.Time
	Arrivals float64
	// AHT of the interval's contacts; 0 uses the goal's AHT.
	AHT time.Duration
}

// Staffed is one interval of a staffing plan.
type Staffed struct {
	Demand
	Result
}

// Day sums up a plan's day in a time zone.
type Day struct {
	Date            time.Time // midnight, in the plan's location
	Arrivals        float64
	PeakAgents      int
	PeakScheduled   int
	AgentHours      float64 // handling agents × interval, summed
	ScheduledHours  float64 // the same for scheduled agents
	BusiestInterval time.Time
}

// Plan sizes every interval of a forecast with the goal's targets (Erlang A
// when the goal has a Patience, Erlang C otherwise) and sums up each day.
// An interval with no arrivals needs no agents.
func Plan(demand []Demand, goal Forecast, loc *time.Location) ([]Staffed, []Day, error) {
	if loc == nil {
		loc = time.UTC
	}
	out := make([]Staffed, 0, len(demand))
	var days []Day
	for _, d := range demand {
		s := Staffed{Demand: d}
		if d.Arrivals > 0 {
			f := goal
			f.Arrivals = d.Arrivals
			if d.AHT > 0 {
				f.AHT = d.AHT
			}
			s.AHT = f.AHT
			var err error
			if f.Patience > 0 {
				s.Result, err = ErlangA(f)
			} else {
				s.Result, err = ErlangC(f)
			}
			if err != nil {
				return nil, nil, err
			}
		}
		out = append(out, s)
		local := d.Start.In(loc)
		y, m, dd := local.Date()
		date := time.Date(y, m, dd, 0, 0, 0, 0, loc)
		if len(days) == 0 || !days[len(days)-1].Date.Equal(date) {
			days = append(days, Day{Date: date})
		}
		day := &days[len(days)-1]
		day.Arrivals += d.Arrivals
		hours := goal.Interval.Hours()
		day.AgentHours += float64(s.Agents) * hours
		day.ScheduledHours += float64(s.ScheduledAgents) * hours
		if s.Agents > day.PeakAgents {
			day.BusiestInterval = d.Start
		}
		day.PeakAgents = max(day.PeakAgents, s.Agents)
		day.PeakScheduled = max(day.PeakScheduled, s.ScheduledAgents)
	}
	return out, days, nil
}
