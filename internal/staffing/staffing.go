// Package staffing sizes a queue of contacts with the Erlang models: how many
// agents a forecast interval needs to reach a service-level target, and what
// service that number of agents gives.
//
// Two models are offered:
//
//   - Erlang C (M/M/N): Poisson arrivals, exponential handle times, N agents,
//     an unlimited queue and callers who never hang up. It needs more agents
//     than the offered traffic (N > A), and it is pessimistic when callers do
//     abandon.
//   - Erlang A (M/M/N+M, Palm's model as analysed by Garnett, Mandelbaum and
//     Reiman): the same, but each waiting caller hangs up after an
//     exponentially distributed patience with the given mean. It is stable
//     for any N, including N ≤ A.
//
// The package is pure computation: no storage, no HTTP. Input errors are
// *errs.Invalid naming the field as the query parameters of the API name it
// (arrivals, interval_s, aht_s, target_sl, target_s, max_occupancy,
// shrinkage, patience_s).
package staffing

import (
	"math"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
)

// MaxAgents is the largest number of agents the calculators consider. A
// forecast that needs more is refused: it is almost certainly a mistake in
// the units (an interval in minutes given as seconds, say), and the cost of
// the search grows with the number of agents.
const MaxAgents = 100_000

// MaxPatienceRatio bounds the mean patience of Erlang A to this many average
// handle times. Callers who wait that long are, for staffing, callers who
// never hang up: use Erlang C for them. The bound also bounds the work of
// the incomplete gamma function, whose cost grows with the square root of
// agents × patience / AHT.
const MaxPatienceRatio = 10_000

// Unbounded is the ASA reported when the queue grows without limit (Erlang C
// with no more agents than the offered traffic).
const Unbounded = time.Duration(math.MaxInt64)

// Forecast describes one interval of demand and the goal for it.
type Forecast struct {
	// Arrivals is the number of contacts expected in Interval.
	Arrivals float64
	// Interval is the length of the forecast interval (often 15 or 30 minutes).
	Interval time.Duration
	// AHT is the average handle time of a contact, after-contact work included.
	AHT time.Duration
	// TargetTime is the answer time of the service-level goal ("within 20 s").
	// Zero asks for contacts answered without any wait.
	TargetTime time.Duration
	// Patience is the mean time a caller waits before hanging up (Erlang A only).
	Patience time.Duration
	// TargetSL is the share of contacts to answer within TargetTime, in (0, 1).
	TargetSL float64
	// MaxOccupancy caps the share of time agents spend handling contacts, in
	// (0, 1]; 1 (or 0, meaning unset) is no cap.
	MaxOccupancy float64
	// Shrinkage is the share of paid time agents are not available for
	// contacts (breaks, training, absence), in [0, 1).
	Shrinkage float64
}

// Result is what a number of agents achieves for a forecast.
type Result struct {
	// Agents is the number of agents handling contacts. For ErlangC and
	// ErlangA it is the smallest number that meets the target and the
	// occupancy cap.
	Agents int
	// ScheduledAgents is Agents grossed up for shrinkage:
	// ceil(Agents / (1 − Shrinkage)), the number to put on the schedule.
	ScheduledAgents int
	// ServiceLevel is the share of all arriving contacts answered within
	// TargetTime. For Erlang A the denominator counts every arrival,
	// abandoned ones included whenever they hang up; a caller who hangs up
	// is never "answered within" the target.
	ServiceLevel float64
	// WaitProbability is the share of contacts that find every agent busy
	// and have to wait (Erlang C: the Erlang C formula itself).
	WaitProbability float64
	// AbandonProbability is the share of contacts that hang up before being
	// answered (always 0 for Erlang C).
	AbandonProbability float64
	// Occupancy is the share of time agents spend handling contacts: the
	// carried traffic divided by Agents. For Erlang C the carried traffic is
	// all of TrafficErlangs; for Erlang A it is TrafficErlangs × (1 − AbandonProbability).
	Occupancy float64
	// ASA is the average speed of answer: the mean wait of answered
	// contacts, counting those answered at once as zero. Unbounded when the
	// queue grows without limit.
	ASA time.Duration
	// TrafficErlangs is the offered traffic A = Arrivals × AHT / Interval.
	TrafficErlangs float64
}

// Traffic is the offered traffic of f in Erlangs: arrivals × AHT / interval.
func (f Forecast) Traffic() float64 {
	return f.Arrivals * f.AHT.Seconds() / f.Interval.Seconds()
}

// maxOccupancy is the cap with the zero value meaning "no cap".
func (f Forecast) maxOccupancy() float64 {
	if f.MaxOccupancy == 0 {
		return 1
	}
	return f.MaxOccupancy
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// validate checks f, naming the fault as the API's query parameters do.
func (f Forecast) validate(erlangA bool) error {
	switch {
	case !finite(f.Arrivals) || f.Arrivals <= 0:
		return errs.Invalidf("arrivals", "must be a number of contacts above 0")
	case f.Interval <= 0:
		return errs.Invalidf("interval_s", "must be a number of seconds above 0")
	case f.AHT <= 0:
		return errs.Invalidf("aht_s", "must be a number of seconds above 0")
	case !finite(f.TargetSL) || f.TargetSL <= 0 || f.TargetSL >= 1:
		return errs.Invalidf("target_sl", "must be a share between 0 and 1, both excluded (0.8 for 80%%)")
	case f.TargetTime < 0:
		return errs.Invalidf("target_s", "must be a number of seconds, 0 or more")
	case !finite(f.MaxOccupancy) || f.MaxOccupancy < 0 || f.MaxOccupancy > 1:
		return errs.Invalidf("max_occupancy", "must be a share above 0 and at most 1 (1: no cap)")
	case !finite(f.Shrinkage) || f.Shrinkage < 0 || f.Shrinkage >= 1:
		return errs.Invalidf("shrinkage", "must be a share from 0 up to, but not including, 1")
	}
	if erlangA {
		if f.Patience <= 0 {
			return errs.Invalidf("patience_s", "must be a number of seconds above 0")
		}
		if f.Patience.Seconds() > MaxPatienceRatio*f.AHT.Seconds() {
			return errs.Invalidf("patience_s", "must be at most %d times aht_s; callers that patient never hang up: use Erlang C", MaxPatienceRatio)
		}
	}
	a := f.Traffic()
	if !finite(a) || a/f.maxOccupancy() > MaxAgents {
		return tooMany(a)
	}
	return nil
}

func tooMany(a float64) error {
	return errs.Invalidf("arrivals", "the forecast (%.6g Erlangs of traffic) needs more than %d agents, the most this calculator sizes; check the units of arrivals, interval_s and aht_s", a, MaxAgents)
}

// Tolerances of the comparisons with the targets, so that a target met to
// the last bit is not missed by rounding.
const (
	slTolerance  = 1e-12
	occTolerance = 1e-12
)

// scheduled grosses agents up for shrinkage.
func scheduled(agents int, shrinkage float64) int {
	if shrinkage <= 0 {
		return agents
	}
	// 14 / (1 − 0.3) is 20.000000000000004 in floating point; it means 20.
	return int(math.Ceil(float64(agents)/(1-shrinkage) - 1e-9))
}

// minAgentsForOccupancy is the least N with a/N ≤ maxOcc.
func minAgentsForOccupancy(a, maxOcc float64) int {
	n := int(math.Ceil(a/maxOcc - 1e-9))
	for n > 1 && a/float64(n-1) <= maxOcc+occTolerance {
		n--
	}
	for a/float64(n) > maxOcc+occTolerance {
		n++
	}
	return max(n, 1)
}

func seconds(d float64) time.Duration {
	if d >= float64(math.MaxInt64)/1e9 || math.IsNaN(d) {
		return Unbounded
	}
	return time.Duration(math.Round(d * 1e9))
}
