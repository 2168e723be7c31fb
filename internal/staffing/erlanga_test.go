package staffing

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestErlangAToErlangC: as callers grow patient, Erlang A must converge to
// Erlang C, with nothing abandoned.
func TestErlangAToErlangC(t *testing.T) {
	for _, f := range []Forecast{
		callCentreExample(),
		{Arrivals: 360, Interval: 30 * time.Minute, AHT: 4 * time.Minute, TargetTime: 15 * time.Second, TargetSL: 0.8},
		{Arrivals: 10000, Interval: 30 * time.Minute, AHT: 180 * time.Second, TargetTime: 20 * time.Second, TargetSL: 0.8},
	} {
		a := f.Traffic()
		for _, n := range []int{int(a) + 1, int(a) + 2, int(a+2*math.Sqrt(a)) + 1} {
			c := ErlangCWith(n, f)
			prevGap := math.Inf(1)
			for _, ratio := range []float64{10, 100, 1000, 10000} {
				f.Patience = time.Duration(ratio * float64(f.AHT))
				r := ErlangAWith(n, f)
				gap := math.Max(math.Abs(r.ServiceLevel-c.ServiceLevel), math.Abs(r.WaitProbability-c.WaitProbability))
				gap = math.Max(gap, math.Abs(r.Occupancy-c.Occupancy))
				if gap > prevGap*1.0001 {
					t.Errorf("%g E, %d agents: patience %g×AHT is further from Erlang C (%g) than the one before (%g)", a, n, ratio, gap, prevGap)
				}
				prevGap = gap
			}
			// How much abandonment still matters at 10,000 × AHT: the
			// abandonment rate θ·Lq of Erlang C's queue against the rate
			// (N − A)·μ at which the agents drain it. Where that is under 1%,
			// the measures agree to about that; where not (1,000 Erlangs on
			// 1,001 or 1,002 agents, queues of hundreds), only the monotone
			// convergence above is asserted.
			lq := c.WaitProbability * a / (float64(n) - a)
			if f.AHT.Seconds()/f.Patience.Seconds()*lq/(float64(n)-a) > 0.01 {
				continue
			}
			r := ErlangAWith(n, f)
			near(t, "SL", r.ServiceLevel, c.ServiceLevel, 2e-3)
			near(t, "P(wait)", r.WaitProbability, c.WaitProbability, 2e-3)
			near(t, "occupancy", r.Occupancy, c.Occupancy, 1e-3)
			near(t, "P(abandon)", r.AbandonProbability, 0, 1e-3)
			near(t, "ASA/ASA_C", r.ASA.Seconds()/c.ASA.Seconds(), 1, 0.05)
		}
	}
	// And on the worked example, patient callers give the same 14 agents.
	f := callCentreExample()
	f.Patience = 1000 * f.AHT
	r, err := ErlangA(f)
	if err != nil || r.Agents != 14 || r.ScheduledAgents != 20 {
		t.Errorf("worked example, patient callers: %+v %v", r, err)
	}
}

// TestErlangAToErlangB: callers who hang up at once make a loss system; the
// share abandoning is the Erlang B blocking probability, and the published
// table point (15 lines, 8.108 Erlangs, 1%) comes back.
func TestErlangAToErlangB(t *testing.T) {
	f := Forecast{Arrivals: 8.108 * 3600 / 180, Interval: time.Hour, AHT: 180 * time.Second, TargetTime: 20 * time.Second, TargetSL: 0.8, Patience: time.Millisecond}
	r := ErlangAWith(15, f)
	near(t, "P(abandon)", r.AbandonProbability, 0.010, 0.0005)
	near(t, "P(abandon) vs B", r.AbandonProbability, ErlangB(15, 8.108), 1e-5)
	near(t, "P(wait) vs B", r.WaitProbability, ErlangB(15, 8.108), 1e-5)
	near(t, "SL", r.ServiceLevel, 1-ErlangB(15, 8.108), 1e-5)
}

// TestErlangAAgainstChain solves the birth–death chain of Erlang A
// directly, truncated far out, and compares the wait and abandon
// probabilities with the incomplete-gamma formulas, on both sides of the
// series/continued-fraction switch.
func TestErlangAAgainstChain(t *testing.T) {
	for _, c := range []struct {
		n                   int
		a, aht, patience, t float64
	}{
		{11, 10, 180, 180, 20}, {8, 10, 180, 60, 20}, {14, 10, 180, 30, 20},
		{3, 10, 60, 600, 30}, {100, 100, 300, 120, 20}, {95, 100, 300, 900, 20},
		{1, 0.5, 100, 50, 10}, {40, 60, 200, 1000, 60},
	} {
		lambda, mu, theta := c.a/c.aht, 1/c.aht, 1/c.patience
		// Unnormalised probabilities, in logs.
		logp := []float64{0}
		for k := 1; ; k++ {
			death := float64(min(k, c.n))*mu + float64(max(k-c.n, 0))*theta
			logp = append(logp, logp[k-1]+math.Log(lambda/death))
			if k > c.n+10 && logp[k] < logp[k-1] && logp[k] < maxOf(logp)-80 {
				break
			}
		}
		top := maxOf(logp)
		var total, busy, queue float64
		for k, lp := range logp {
			p := math.Exp(lp - top)
			total += p
			if k >= c.n {
				busy += p
				queue += float64(k-c.n) * p
			}
		}
		pWait := busy / total
		pAb := theta * queue / total / lambda // abandon rate θ·E[Q] over the arrival rate

		f := Forecast{Arrivals: lambda * 3600, Interval: time.Hour, AHT: sec(c.aht), Patience: sec(c.patience), TargetTime: sec(c.t), TargetSL: 0.8}
		r := ErlangAWith(c.n, f)
		near(t, "P(wait)", r.WaitProbability, pWait, 1e-9)
		near(t, "P(abandon)", r.AbandonProbability, pAb, 1e-9)
		// Mean wait over all callers is P(abandon)/θ (Little's law on the
		// queue); the answered part of it is the ASA.
		e := newErlangA(c.n, f)
		if e.asa() < 0 || e.asa()*(1-pAb) > pAb/theta+1e-9 {
			t.Errorf("%+v: ASA %g s inconsistent with a mean wait of %g s", c, e.asa(), pAb/theta)
		}
	}
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = math.Max(m, x)
	}
	return m
}

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// TestErlangAServiceLevelQuadrature computes P(answered within t | wait) a
// second way, as the ratio of two integrals of the log-concave kernel
// (Simpson's rule on a fine grid), against the incomplete-gamma form.
func TestErlangAServiceLevelQuadrature(t *testing.T) {
	for _, c := range []struct {
		n                   int
		a, aht, patience, t float64
	}{
		{11, 10, 180, 180, 20}, {8, 10, 180, 60, 20}, {14, 10, 180, 30, 20},
		{3, 10, 60, 600, 30}, {100, 100, 300, 120, 20}, {1000, 1050, 180, 300, 20},
		{1000, 900, 180, 3000, 20}, {2, 0.5, 100, 50, 10}, {40, 60, 200, 1000, 600},
	} {
		f := Forecast{Arrivals: c.a * 3600 / c.aht, Interval: time.Hour, AHT: sec(c.aht), Patience: sec(c.patience), TargetTime: sec(c.t), TargetSL: 0.8}
		e := newErlangA(c.n, f)
		x, y := e.x, e.y
		// Both integrands in σ = θ·wait, scaled by the same constant.
		lkAnswered := func(s float64) float64 { return -(x+1)*s - y*math.Exp(-s) }
		lkAll := func(s float64) float64 { return -x*s - y*math.Exp(-s) }
		scale := math.Max(lkAll(math.Max(0, math.Log(y/x))), lkAnswered(math.Max(0, math.Log(y/(x+1)))))
		within := simpson(lkAnswered, scale, 0, c.t/c.patience)
		all := simpson(lkAll, scale, 0, math.Max(0, math.Log(y/x))+200/math.Sqrt(x)+200/x)
		near(t, "P(answered within t | wait)", e.answeredWithinIfWait(), within/all, 1e-7)
	}
}

func simpson(lk func(float64) float64, scale, lo, hi float64) float64 {
	const n = 200000
	h := (hi - lo) / n
	sum := 0.0
	for i := 0; i <= n; i++ {
		w := 2.0
		switch {
		case i == 0 || i == n:
			w = 1
		case i%2 == 1:
			w = 4
		}
		sum += w * math.Exp(lk(lo+float64(i)*h)-scale)
	}
	return sum * h / 3
}

// TestErlangAGarnettMandelbaumReiman compares with the many-server
// approximation of Garnett, Mandelbaum and Reiman (2002) in the QED regime:
// with N = a exactly (β = 0), P(wait) ≈ 1 / (1 + √(θ/μ)) = 1 / (1 + √(AHT/patience)).
func TestErlangAGarnettMandelbaumReiman(t *testing.T) {
	for _, a := range []float64{2000, 20000} {
		f := Forecast{Arrivals: a * 3600 / 180, Interval: time.Hour, AHT: 180 * time.Second, Patience: 300 * time.Second, TargetTime: 20 * time.Second, TargetSL: 0.8}
		r := ErlangAWith(int(a), f)
		near(t, "P(wait) at N = a", r.WaitProbability, 1/(1+math.Sqrt(180.0/300)), 3/math.Sqrt(a))
	}
}

// TestErlangASimulation runs a discrete-event simulation of the M/M/N+M
// queue (first come, first served; exponential handle times and patience)
// and checks every measure against the formulas. The tolerance is
// statistical: the run is cut into 40 batches of consecutive callers, and
// each measure must be within 4.5 standard errors of the batch means (a
// two-sided normal tail of 7·10⁻⁶; the batches are long enough, hundreds
// of busy periods each, for their means to be nearly independent).
func TestErlangASimulation(t *testing.T) {
	callers := 1_200_000
	if testing.Short() {
		callers = 200_000
	}
	for i, c := range []struct {
		n                   int
		a, aht, patience, t float64
	}{
		{11, 10, 180, 180, 20}, // the worked example, 11 agents, 3-minute patience
		{8, 10, 180, 60, 20},   // overloaded: fewer agents than Erlangs
		{50, 48, 240, 120, 15}, // many agents, close to the traffic
	} {
		f := Forecast{Arrivals: c.a * 3600 / c.aht, Interval: time.Hour, AHT: sec(c.aht), Patience: sec(c.patience), TargetTime: sec(c.t), TargetSL: 0.8}
		want := ErlangAWith(c.n, f)
		got := simulate(rand.New(rand.NewPCG(uint64(i)+7, 42)), c.n, c.a/c.aht, 1/c.aht, 1/c.patience, c.t, callers, 40)
		for _, m := range []struct {
			name string
			want float64
			est  [2]float64
		}{
			{"P(wait)", want.WaitProbability, got.wait},
			{"P(abandon)", want.AbandonProbability, got.abandon},
			{"service level", want.ServiceLevel, got.sl},
			{"ASA (s)", want.ASA.Seconds(), got.asa},
			{"occupancy", want.Occupancy, got.occupancy},
		} {
			mean, se := m.est[0], m.est[1]
			t.Logf("case %d %-13s formula %.5f  simulation %.5f ± %.5f", i, m.name, m.want, mean, se)
			if math.Abs(mean-m.want) > 4.5*se {
				t.Errorf("case %d %s: formula %.5f, simulation %.5f ± %.5f (%.1f standard errors)", i, m.name, m.want, mean, se, math.Abs(mean-m.want)/se)
			}
		}
	}
}

// simResult holds the batch mean and its standard error of each measure.
type simResult struct {
	wait, abandon, sl, asa, occupancy [2]float64
}

// simulate runs the M/M/n+M queue for the given number of callers after a
// warm-up of a tenth of them. Waiting callers sit in a FIFO with their
// arrival time and the time their patience runs out; a freed agent drops
// the ones whose patience ran out (they abandoned then) and takes the first
// still waiting, which is exact for first come, first served. Handle times
// being exponential, the next completion among the busy agents is redrawn
// after every event.
func simulate(rng *rand.Rand, n int, lambda, mu, theta, target float64, callers, batches int) simResult {
	type waiting struct {
		id            int
		arrived, gone float64
	}
	warm := callers / 10
	per := callers / batches
	type batch struct {
		arrived, waited, abandoned, within, answered, busyTime, span float64
		waitSum                                                      float64
	}
	bs := make([]batch, batches)
	batchOf := func(id int) *batch {
		if id < warm || (id-warm)/per >= batches {
			return nil
		}
		return &bs[(id-warm)/per]
	}
	exp := func(rate float64) float64 { return rng.ExpFloat64() / rate }
	var queue []waiting
	head := 0
	busy, now, id := 0, 0.0, 0
	nextArrival := exp(lambda)
	for id < warm+per*batches {
		nextDone := math.Inf(1)
		if busy > 0 {
			nextDone = now + exp(float64(busy)*mu)
		}
		next := math.Min(nextArrival, nextDone)
		// Time-average busy agents, credited to the batch of the latest arrival.
		if b := batchOf(id - 1); b != nil {
			b.busyTime += float64(busy) * (next - now)
			b.span += next - now
		}
		now = next
		if nextArrival <= nextDone {
			b := batchOf(id)
			if b != nil {
				b.arrived++
			}
			if busy < n {
				busy++
				if b != nil {
					b.within++
					b.answered++
				}
			} else {
				if b != nil {
					b.waited++
				}
				queue = append(queue, waiting{id, now, now + exp(theta)})
			}
			id++
			nextArrival = now + exp(lambda)
			continue
		}
		busy--
		for head < len(queue) {
			w := queue[head]
			head++
			b := batchOf(w.id)
			if w.gone <= now {
				if b != nil {
					b.abandoned++
				}
				continue
			}
			busy++
			if b != nil {
				b.answered++
				b.waitSum += now - w.arrived
				if now-w.arrived <= target {
					b.within++
				}
			}
			break
		}
		if head > 1<<16 && head > len(queue)/2 {
			queue = append(queue[:0], queue[head:]...)
			head = 0
		}
	}
	stat := func(v func(batch) float64) [2]float64 {
		var s, s2 float64
		for _, b := range bs {
			x := v(b)
			s += x
			s2 += x * x
		}
		k := float64(len(bs))
		mean := s / k
		return [2]float64{mean, math.Sqrt((s2/k - mean*mean) / (k - 1))}
	}
	return simResult{
		wait:      stat(func(b batch) float64 { return b.waited / b.arrived }),
		abandon:   stat(func(b batch) float64 { return b.abandoned / b.arrived }),
		sl:        stat(func(b batch) float64 { return b.within / b.arrived }),
		asa:       stat(func(b batch) float64 { return b.waitSum / b.answered }),
		occupancy: stat(func(b batch) float64 { return b.busyTime / b.span / float64(n) }),
	}
}

// TestErlangAProperties: more agents never lower the service level, never
// raise the ASA, the abandon rate or the occupancy, and the answer is
// minimal.
func TestErlangAProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		f := randomForecast(rng)
		r, err := ErlangA(f)
		if err != nil {
			t.Fatalf("case %d %+v: %v", i, f, err)
		}
		ok := func(r Result) bool {
			return r.ServiceLevel >= f.TargetSL-slTolerance && r.Occupancy <= f.maxOccupancy()+occTolerance
		}
		if !ok(r) {
			t.Errorf("case %d: %+v misses the target of %+v", i, r, f)
		}
		if r.Agents > 1 && ok(ErlangAWith(r.Agents-1, f)) {
			t.Errorf("case %d: %d agents are enough already", i, r.Agents-1)
		}
		lo := max(1, r.Agents-30)
		prev := ErlangAWith(lo, f)
		for n := lo + 1; n <= r.Agents+10; n++ {
			cur := ErlangAWith(n, f)
			if cur.ServiceLevel < prev.ServiceLevel-1e-9 || cur.ASA > prev.ASA+time.Microsecond ||
				cur.AbandonProbability > prev.AbandonProbability+1e-12 || cur.Occupancy > prev.Occupancy+1e-12 {
				t.Fatalf("case %d (%+v): from %d to %d agents:\n%+v\n%+v", i, f, n-1, n, prev, cur)
			}
			for _, v := range []float64{cur.ServiceLevel, cur.WaitProbability, cur.AbandonProbability, cur.Occupancy} {
				if math.IsNaN(v) || v < 0 || v > 1 {
					t.Fatalf("case %d, %d agents: %+v", i, n, cur)
				}
			}
			prev = cur
		}
	}
}

// TestErlangAExtremes: large and lopsided inputs stay finite and sensible.
func TestErlangAExtremes(t *testing.T) {
	for _, c := range []struct {
		n                   int
		a, aht, patience, t float64
	}{
		{1, 5000, 180, 1800000, 20},    // hopeless overload, very patient callers
		{90000, 5000, 180, 600, 20},    // far more agents than needed
		{50000, 50000, 60, 600000, 20}, // huge x and y, close together
		{1, 1e-4, 3600, 1, 0},          // almost no traffic, impatient callers
	} {
		f := Forecast{Arrivals: c.a * 3600 / c.aht, Interval: time.Hour, AHT: sec(c.aht), Patience: sec(c.patience), TargetTime: sec(c.t), TargetSL: 0.8}
		r := ErlangAWith(c.n, f)
		for _, v := range []float64{r.ServiceLevel, r.WaitProbability, r.AbandonProbability, r.Occupancy} {
			if math.IsNaN(v) || v < 0 || v > 1 {
				t.Errorf("%+v: %+v", c, r)
			}
		}
		if r.ASA < 0 {
			t.Errorf("%+v: ASA %v", c, r.ASA)
		}
		// Carried traffic never exceeds the agents.
		if carried := r.TrafficErlangs * (1 - r.AbandonProbability); carried > float64(c.n)*(1+1e-9) {
			t.Errorf("%+v: carries %g Erlangs on %d agents", c, carried, c.n)
		}
	}
}
