package staffing

import "math"

// Erlang A (M/M/N+M). Notation, after Mandelbaum and Zeltyn's note "The
// Palm/Erlang-A Queue, with Applications to Call Centers" (the model of
// Palm, 1943, and of Garnett, Mandelbaum and Reiman, 2002):
//
//	λ arrival rate, μ = 1/AHT, θ = 1/patience, N agents, a = λ/μ
//	x = Nμ/θ = N·patience/AHT,   y = λ/θ = a·patience/AHT,   ρ = a/N
//
// The number of callers in the system is a birth–death process with birth
// rate λ and death rate min(k, N)·μ + max(k − N, 0)·θ. With j callers
// queued its stationary probability is π_N·T_j, T_j = y^j / ((x+1)…(x+j)),
// and the sum of the T_j is
//
//	A(x, y) = Σ_j T_j = e^y · y^(−x) · Γ(x+1) · P(x, y)
//
// (P the regularized lower incomplete gamma function). With B the Erlang B
// probability of N agents and a Erlangs:
//
//	P(wait)            = A·B / (1 + (A − 1)·B)
//	P(abandon | wait)  = 1 − (x/y)·(1 − 1/A)  = Σ_j T_j·(j+1)/(x+j+1) / A
//
// (a caller who finds j queued ahead is answered with probability
// x/(x+j+1): the product of the chances of moving up a place before hanging
// up telescopes). For the wait itself: a caller who finds j queued ahead
// would reach an agent after V_j = Σ_{i=0..j} Exp(Nμ + iθ), and is answered
// within t if V_j ≤ t and V_j is shorter than their patience. Weighting by
// e^(−θV) turns V_j into Σ_{i=1..j+1} Exp(Nμ + iθ) times x/(x+j+1), and
// e^(−θ·that) is Beta(x+1, j+1) distributed; summing over j against T_j
// collapses the series to
//
//	P(answered within t | wait) = (x/y) · (P(x+1, y) − P(x+1, y·e^(−θt))) / P(x, y)
//
// so that
//
//	service level SL(t) = 1 − P(wait) + P(wait) · P(answered within t | wait)
//
// counts every arrival in the denominator, abandoned callers included. The
// mean wait of answered callers who waited is the mean of the density
// ∝ exp(−(x+1)σ − y·e^(−σ)) of σ = θ·wait, which is log-concave and
// integrated numerically (Gauss–Legendre); with callers answered at once
// counted as 0 it gives the ASA. Occupancy is the carried traffic
// a·(1 − P(abandon)) over N.

// erlangA holds the stationary quantities of one staffing level.
type erlangA struct {
	n                int
	a, x, y          float64
	pWait            float64 // P(wait)
	pAbandonIfWait   float64 // P(abandon | wait)
	series           bool    // y < x + 1: quantities from the power series
	sumT             float64 // A(x, y), when series
	qxy              float64 // Q(x, y), when not series
	patience, target float64 // seconds
}

func newErlangA(n int, f Forecast) erlangA {
	a := f.Traffic()
	r := f.Patience.Seconds() / f.AHT.Seconds()
	e := erlangA{n: n, a: a, x: float64(n) * r, y: a * r,
		patience: f.Patience.Seconds(), target: f.TargetTime.Seconds()}
	if n <= 0 {
		e.pWait, e.pAbandonIfWait = 1, 1
		return e
	}
	var logA float64
	if e.y < e.x+1 {
		s, sab := gammaSeries(e.x, e.y)
		e.series, e.sumT = true, s
		logA = math.Log(s)
		e.pAbandonIfWait = sab / s
	} else {
		e.qxy = e.x * math.Exp(logPoissonTerm(e.x, e.y)) * gammaFraction(e.x, e.y)
		// A = P(x, y) / (y^x·e^(−y)/Γ(x+1)).
		logA = math.Log1p(-e.qxy) - logPoissonTerm(e.x, e.y)
		e.pAbandonIfWait = 1 - (e.x/e.y)*(1-math.Exp(-logA))
	}
	b := ErlangB(n, a)
	// P(wait) = A·B / (1 − B + A·B), in logs: B may underflow (many agents,
	// little traffic) and A may be astronomically large (the reverse).
	e.pWait = 1 / (1 + math.Exp(math.Log1p(-b)-logA-math.Log(b)))
	e.pAbandonIfWait = min(max(e.pAbandonIfWait, 0), 1)
	return e
}

func (e erlangA) abandon() float64 { return e.pWait * e.pAbandonIfWait }

func (e erlangA) occupancy() float64 {
	if e.n <= 0 {
		return 0
	}
	// At most 1: the carried traffic never exceeds the agents (rounding aside).
	return min(e.a*(1-e.abandon())/float64(e.n), 1)
}

// answeredWithinIfWait is P(answered within the target | wait).
func (e erlangA) answeredWithinIfWait() float64 {
	if e.n <= 0 || e.target <= 0 {
		return 0
	}
	tt := e.target / e.patience // θ·t
	z := math.Exp(-tt)
	x, y := e.x, e.y
	var v float64
	if e.series {
		// With P(a, w) = w^a·e^(−w)/Γ(a+1)·S(a, w), the common factors of
		// the three P values cancel:
		//   (x/(x+1)) · (S(x+1, y) − e^(y(1−z) − (x+1)θt)·S(x+1, yz)) / S(x, y)
		s1, _ := gammaSeries(x+1, y)
		s2, _ := gammaSeries(x+1, y*z)
		v = x / (x + 1) * (s1 - math.Exp(-y*math.Expm1(-tt)-(x+1)*tt)*s2) / e.sumT
	} else {
		v = x / y * lowerGammaDiff(x+1, y, y*z) / (1 - e.qxy)
	}
	return min(max(v, 0), 1-e.pAbandonIfWait)
}

func (e erlangA) serviceLevel() float64 {
	if e.n <= 0 {
		return 0
	}
	return 1 - e.pWait + e.pWait*e.answeredWithinIfWait()
}

// asa is the mean wait, in seconds, of answered callers (0 when none are).
func (e erlangA) asa() float64 {
	answered := 1 - e.abandon()
	if e.n <= 0 || answered <= 0 || e.pWait == 0 {
		return 0
	}
	x, y := e.x, e.y
	lk := func(s float64) float64 { return -(x+1)*s - y*math.Exp(-s) }
	mode := 0.0
	if y > x+1 {
		mode = math.Log(y / (x + 1))
	}
	i0, i1 := logConcaveMoments(lk, mode)
	meanIfWaitedAndAnswered := e.patience * i1 / i0
	return e.pWait * (1 - e.pAbandonIfWait) * meanIfWaitedAndAnswered / answered
}

func (e erlangA) result(f Forecast) Result {
	return Result{
		Agents:             e.n,
		ScheduledAgents:    scheduled(e.n, f.Shrinkage),
		ServiceLevel:       e.serviceLevel(),
		WaitProbability:    e.pWait,
		AbandonProbability: e.abandon(),
		Occupancy:          e.occupancy(),
		ASA:                seconds(e.asa()),
		TrafficErlangs:     e.a,
	}
}

// ErlangAWith is what agents agents achieve for f under Erlang A, callers
// hanging up after f.Patience on average. Any number of agents is stable,
// fewer than the traffic included. f should have passed ErlangA's checks;
// nothing is validated here.
func ErlangAWith(agents int, f Forecast) Result {
	return newErlangA(agents, f).result(f)
}

// ErlangA finds the fewest agents that answer f.TargetSL of all arriving
// contacts (abandoned ones counted) within f.TargetTime under Erlang A, with
// an occupancy of at most f.MaxOccupancy, and reports what they achieve.
// Both the service level and the occupancy are monotone in the number of
// agents, so each bound is found by an exponential then a binary search.
func ErlangA(f Forecast) (Result, error) {
	if err := f.validate(true); err != nil {
		return Result{}, err
	}
	a := f.Traffic()
	meetsSL := func(n int) bool { return newErlangA(n, f).serviceLevel() >= f.TargetSL-slTolerance }
	maxOcc := f.maxOccupancy()
	meetsOcc := func(n int) bool { return newErlangA(n, f).occupancy() <= maxOcc+occTolerance }

	nSL, ok := smallest(max(1, int(math.Ceil(a))), meetsSL)
	if !ok {
		return Result{}, tooMany(a)
	}
	nOcc := 1
	if maxOcc < 1 {
		// a/N ≥ occupancy, so N ≥ a/maxOcc always satisfies the cap.
		if nOcc, ok = smallest(minAgentsForOccupancy(a, maxOcc), meetsOcc); !ok {
			return Result{}, tooMany(a)
		}
	}
	for n := max(nSL, nOcc); n <= MaxAgents; n++ {
		if meetsSL(n) && meetsOcc(n) {
			return ErlangAWith(n, f), nil
		}
	}
	return Result{}, tooMany(a)
}

// smallest finds the least n in [1, MaxAgents] for which the monotone test
// holds (false below, true from there on), starting the search at guess.
func smallest(guess int, ok func(int) bool) (int, bool) {
	guess = min(max(guess, 1), MaxAgents)
	lo, hi := 0, guess // ok(lo) is false (n = 0 is never enough); ok(hi) to be found
	for !ok(hi) {
		if hi == MaxAgents {
			return 0, false
		}
		lo, hi = hi, min(2*hi, MaxAgents)
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}
