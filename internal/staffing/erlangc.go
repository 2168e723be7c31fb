package staffing

import "math"

// ErlangB is the blocking probability of the Erlang loss model: the share of
// contacts that find all n servers busy when a traffic of a Erlangs is
// offered and blocked contacts are lost. It runs the recurrence
//
//	B(0) = 1,  B(k) = a·B(k−1) / (k + a·B(k−1))
//
// which stays within [0, 1] at every step: no factorials, no powers, no
// overflow for thousands of servers or Erlangs. (For n far above a the
// result underflows to 0, which is what it is to 300 digits.)
func ErlangB(n int, a float64) float64 {
	if a <= 0 {
		if n <= 0 {
			return 1
		}
		return 0
	}
	b := 1.0
	for k := 1; k <= n && b > 0; k++ {
		b = nextErlangB(b, k, a)
	}
	return b
}

// nextErlangB steps the Erlang B recurrence from k−1 to k servers.
func nextErlangB(b float64, k int, a float64) float64 {
	ab := a * b
	return ab / (float64(k) + ab)
}

// ErlangCWait is the Erlang C formula: the probability that a contact has to
// wait in an M/M/n queue offered a Erlangs. It is 1 when n ≤ a (the queue
// grows without limit). It is computed from Erlang B as
//
//	C = n·B / (n − a·(1 − B))
func ErlangCWait(n int, a float64) float64 {
	if float64(n) <= a {
		return 1
	}
	return erlangCFromB(n, a, ErlangB(n, a))
}

func erlangCFromB(n int, a, b float64) float64 {
	nf := float64(n)
	return nf * b / (nf - a*(1-b))
}

// ErlangCWith is what agents agents achieve for f under Erlang C:
//
//	service level   SL(t) = 1 − C·exp(−(N − A)·t / AHT)
//	ASA             C·AHT / (N − A)
//	occupancy       A / N
//
// With agents ≤ A the queue grows without limit: the wait probability is 1,
// the service level 0, the ASA Unbounded and the occupancy 1. f should have
// passed ErlangC's checks; nothing is validated here.
func ErlangCWith(agents int, f Forecast) Result {
	a := f.Traffic()
	r := Result{Agents: agents, ScheduledAgents: scheduled(agents, f.Shrinkage), TrafficErlangs: a}
	if agents <= 0 || float64(agents) <= a {
		r.WaitProbability = 1
		r.ASA = Unbounded
		if agents > 0 {
			r.Occupancy = 1
		}
		return r
	}
	fillErlangC(&r, agents, a, ErlangB(agents, a), f)
	return r
}

func fillErlangC(r *Result, n int, a, b float64, f Forecast) {
	c := erlangCFromB(n, a, b)
	aht := f.AHT.Seconds()
	gap := float64(n) - a
	r.WaitProbability = c
	r.ServiceLevel = erlangCServiceLevel(c, gap, f.TargetTime.Seconds(), aht)
	r.ASA = seconds(c * aht / gap)
	r.Occupancy = a / float64(n)
}

func erlangCServiceLevel(c, gap, t, aht float64) float64 {
	return 1 - c*math.Exp(-gap*t/aht)
}

// ErlangC finds the fewest agents that answer f.TargetSL of the contacts
// within f.TargetTime under Erlang C, with an occupancy of at most
// f.MaxOccupancy, and reports what they achieve. It walks N upwards from the
// least number above the traffic, stepping Erlang B along (one division per
// step), so the work is proportional to the answer.
func ErlangC(f Forecast) (Result, error) {
	if err := f.validate(false); err != nil {
		return Result{}, err
	}
	a := f.Traffic()
	start := max(int(math.Floor(a))+1, minAgentsForOccupancy(a, f.maxOccupancy()))
	b := 1.0
	for k := 1; k <= start; k++ {
		b = nextErlangB(b, k, a)
	}
	t, aht := f.TargetTime.Seconds(), f.AHT.Seconds()
	for n := start; n <= MaxAgents; n++ {
		c := erlangCFromB(n, a, b)
		if erlangCServiceLevel(c, float64(n)-a, t, aht) >= f.TargetSL-slTolerance {
			r := Result{Agents: n, ScheduledAgents: scheduled(n, f.Shrinkage), TrafficErlangs: a}
			fillErlangC(&r, n, a, b, f)
			return r, nil
		}
		b = nextErlangB(b, n+1, a)
	}
	return Result{}, tooMany(a)
}
