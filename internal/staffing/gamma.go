package staffing

import "math"

// The regularized incomplete gamma functions
//
//	P(a, w) = γ(a, w) / Γ(a),   Q(a, w) = 1 − P(a, w)
//
// computed the classical way: the power series when w < a + 1 and the
// continued fraction of Q (evaluated with the modified Lentz method)
// otherwise. Both need the factor w^a·e^(−w)/Γ(a+1), which is taken in log
// space in a form that does not lose digits when a and w are large and close
// (the usual case here: agents × patience / AHT against arrivals ×
// patience), and both converge in O(√a) steps in the worst case.

const gammaEps = 1e-16

// logPoissonTerm is log(w^a · e^(−w) / Γ(a+1)), the log of the Poisson
// probability of a (extended to real a) at mean w.
func logPoissonTerm(a, w float64) float64 {
	if w <= 0 {
		return math.Inf(-1)
	}
	if a < 16 {
		lg, _ := math.Lgamma(a + 1)
		return a*math.Log(w) - w - lg
	}
	// a·log(w) − w − log Γ(a+1) with Stirling's series for log Γ(a+1):
	//   = a·(log(1+δ) − δ) − ½·log(2πa) − stirlingError(a),   δ = (w − a)/a,
	// which avoids subtracting numbers of size a·log(a).
	d := (w - a) / a
	return a*(math.Log1p(d)-d) - 0.5*math.Log(2*math.Pi*a) - stirlingError(a)
}

// stirlingError is log Γ(a+1) − (a + ½)·log(a) + a − ½·log(2π).
func stirlingError(a float64) float64 {
	if a < 16 {
		lg, _ := math.Lgamma(a + 1)
		return lg - (a+0.5)*math.Log(a) + a - 0.5*math.Log(2*math.Pi)
	}
	a2 := a * a
	// The asymptotic series; at a = 16 the first omitted term is below 1e-17.
	return (1.0/12 - (1.0/360-(1.0/1260-(1.0/1680-1.0/(1188*a2))/a2)/a2)/a2) / a
}

// maxGammaIter bounds the iterations of the series and the continued
// fraction; both need about 10·√a in the worst case (w ≈ a).
func maxGammaIter(a, w float64) int {
	return 200 + int(40*math.Sqrt(max(a, w)))
}

// gammaSeries returns, for w < a + 1,
//
//	s   = Σ_{k≥0} T_k,                   T_0 = 1, T_k = T_(k−1)·w/(a+k)
//	sab = Σ_{k≥0} T_k·(k+1)/(a+k+1)
//
// s is the series of the lower incomplete gamma function,
// P(a, w) = w^a·e^(−w)/Γ(a+1) · s. sab is what Erlang A needs for the
// share of waiting callers who abandon, summed term by term so that it
// keeps its digits when it is small.
func gammaSeries(a, w float64) (s, sab float64) {
	t := 1.0
	s = 1
	sab = 1 / (a + 1)
	limit := maxGammaIter(a, w)
	for k := 1; k < limit; k++ {
		t *= w / (a + float64(k))
		s += t
		sab += t * float64(k+1) / (a + float64(k) + 1)
		if t < gammaEps*s {
			break
		}
	}
	return s, sab
}

// gammaFraction returns the continued fraction h with
// Q(a, w) = a · w^a·e^(−w)/Γ(a+1) · h, for w ≥ a + 1.
func gammaFraction(a, w float64) float64 {
	const tiny = 1e-300
	b := w + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	limit := maxGammaIter(a, w)
	for i := 1; i < limit; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < gammaEps {
			break
		}
	}
	return h
}

// regGamma returns P(a, w) and Q(a, w), each computed directly where it is
// the small one (the other as 1 minus it).
func regGamma(a, w float64) (p, q float64) {
	if w <= 0 {
		return 0, 1
	}
	lp := logPoissonTerm(a, w)
	if w < a+1 {
		s, _ := gammaSeries(a, w)
		p = math.Exp(lp) * s
		return p, 1 - p
	}
	q = a * math.Exp(lp) * gammaFraction(a, w)
	return 1 - q, q
}

// lowerGammaDiff is P(a, w1) − P(a, w2) for w1 ≥ w2 ≥ 0, taken as a
// difference of Q values when both are on the continued-fraction side (where
// P is close to 1 and its complement carries the digits).
func lowerGammaDiff(a, w1, w2 float64) float64 {
	if w2 >= a+1 {
		_, q1 := regGamma(a, w1)
		_, q2 := regGamma(a, w2)
		return q2 - q1
	}
	p1, _ := regGamma(a, w1)
	p2, _ := regGamma(a, w2)
	return p1 - p2
}

// Gauss–Legendre quadrature, for the one Erlang A measure without a closed
// form in incomplete gamma functions (the mean wait of answered callers).

// gaussLegendre returns the n nodes and weights of Gauss–Legendre quadrature
// on [−1, 1], finding the roots of the Legendre polynomial by Newton's
// method from the usual cosine starting points.
func gaussLegendre(n int) (nodes, weights []float64) {
	nodes = make([]float64, n)
	weights = make([]float64, n)
	for i := range n {
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, x
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*x*p1-(float64(k)-1)*p0)/float64(k)
			}
			dp = float64(n) * (x*p1 - p0) / (x*x - 1)
			dx := p1 / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		nodes[i] = x
		weights[i] = 2 / ((1 - x*x) * dp * dp)
	}
	return nodes, weights
}

var glNodes, glWeights = gaussLegendre(16)

// logConcaveMoments integrates exp(lk(σ)) and σ·exp(lk(σ)) over [0, ∞) for
// a concave lk with its maximum at mode (≥ 0), each scaled by
// exp(−lk(mode)); only their ratio, the mean, is meaningful. The range is
// cut where the integrand has fallen by e^60 and split into equal panels.
func logConcaveMoments(lk func(float64) float64, mode float64) (i0, i1 float64) {
	const drop, panels = 60.0, 96
	peak := lk(mode)
	below := func(s float64) bool { return lk(s) < peak-drop }
	lo := 0.0
	if below(0) {
		l, h := 0.0, mode // lk rises on [0, mode]
		for range 200 {
			m := (l + h) / 2
			if below(m) {
				l = m
			} else {
				h = m
			}
		}
		lo = l
	}
	step := 1e-6 + 1e-3*mode
	for range 2000 {
		if below(mode + step) {
			break
		}
		step *= 2
	}
	l, h := mode, mode+step // lk falls on [mode, ∞)
	for range 200 {
		m := (l + h) / 2
		if below(m) {
			h = m
		} else {
			l = m
		}
	}
	hi := h
	width := (hi - lo) / panels
	for p := range panels {
		mid := lo + (float64(p)+0.5)*width
		for i, x := range glNodes {
			s := mid + x*width/2
			g := math.Exp(lk(s) - peak)
			w := glWeights[i] * width / 2
			i0 += w * g
			i1 += w * s * g
		}
	}
	return i0, i1
}
