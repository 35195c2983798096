package reports

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary describes one metric across seeds.
type Summary struct {
	N    int
	Mean float64
	// SD is the sample standard deviation (n−1); NaN below two values.
	SD float64
	// Lo and Hi bound the 95% confidence interval of the mean; NaN below
	// two values.
	Lo, Hi float64
	// Method names how the interval was computed: "t" (Student) or
	// "wilson" (the bounded score interval of SummarizeProportion).
	Method string
}

// Summarize gives the mean, standard deviation and the 95% Student-t
// confidence interval of xs. The t interval rather than mean ± 1.96·SE
// because grids have a handful of seeds (t with 2 df is 4.30, not 1.96).
func Summarize(xs []float64) Summary {
	s := Summary{N: len(xs), Mean: math.NaN(), SD: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), Method: "t"}
	if len(xs) == 0 {
		return s
	}
	s.Mean = mean(xs)
	if len(xs) < 2 {
		return s
	}
	s.SD = sd(xs)
	h := TQuantile(0.975, float64(len(xs)-1)) * s.SD / math.Sqrt(float64(len(xs)))
	s.Lo, s.Hi = s.Mean-h, s.Mean+h
	return s
}

// TQuantile is the p-quantile of Student's t distribution with df degrees
// of freedom (NaN for df ≤ 0).
func TQuantile(p, df float64) float64 {
	if !(df > 0) {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

// tSurvival is P(T > t) for Student's t with df degrees of freedom.
func tSurvival(t, df float64) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(t)
}

// Estimate is a difference of means, A − B, with its standard error and the
// degrees of freedom of its t statistic.
type Estimate struct {
	Diff, SE, DF float64
	// N is the number of pairs when Paired, else the runs on both sides.
	N      int
	Paired bool
}

// PairedDiff estimates mean(a − b) from aligned pairs (a[i], b[i]), as when
// two configurations share seeds.
func PairedDiff(a, b []float64) Estimate {
	n := min(len(a), len(b))
	d := make([]float64, n)
	for i := range d {
		d[i] = a[i] - b[i]
	}
	e := Estimate{N: n, Paired: true, Diff: math.NaN(), SE: math.NaN(), DF: float64(n - 1)}
	if n == 0 {
		return e
	}
	e.Diff = mean(d)
	if n > 1 {
		e.SE = sd(d) / math.Sqrt(float64(n))
	}
	return e
}

// WelchDiff estimates mean(a) − mean(b) from independent samples, with
// Welch–Satterthwaite degrees of freedom (no equal-variance assumption).
func WelchDiff(a, b []float64) Estimate {
	e := Estimate{N: len(a) + len(b), Diff: math.NaN(), SE: math.NaN(), DF: math.NaN()}
	if len(a) == 0 || len(b) == 0 {
		return e
	}
	e.Diff = mean(a) - mean(b)
	if len(a) < 2 || len(b) < 2 {
		return e
	}
	va, vb := sd(a)*sd(a)/float64(len(a)), sd(b)*sd(b)/float64(len(b))
	e.SE = math.Sqrt(va + vb)
	if va+vb == 0 {
		e.DF = float64(len(a) + len(b) - 2)
		return e
	}
	e.DF = (va + vb) * (va + vb) /
		(va*va/float64(len(a)-1) + vb*vb/float64(len(b)-1))
	return e
}

// CI is the two-sided confidence interval at level.
func (e Estimate) CI(level float64) (lo, hi float64) {
	if e.SE == 0 {
		return e.Diff, e.Diff
	}
	h := TQuantile(1-(1-level)/2, e.DF) * e.SE
	return e.Diff - h, e.Diff + h
}

// PGreater is the one-sided p-value against "Diff ≤ margin": small when the
// data show the difference exceeds margin. An estimate with zero spread is
// decided by its value alone; one without a standard error gives NaN.
func (e Estimate) PGreater(margin float64) float64 {
	switch {
	case math.IsNaN(e.SE) || math.IsNaN(e.Diff):
		return math.NaN()
	case e.SE == 0 && e.Diff > margin:
		return 0
	case e.SE == 0:
		return 1
	}
	return tSurvival((e.Diff-margin)/e.SE, e.DF)
}

// PLess is the one-sided p-value against "Diff ≥ margin".
func (e Estimate) PLess(margin float64) float64 {
	flipped := e
	flipped.Diff = -e.Diff
	return flipped.PGreater(-margin)
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// sd is the sample standard deviation with n−1 in the denominator.
func sd(xs []float64) float64 {
	m := mean(xs)
	var ss float64
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// splitMix is SplitMix64: a tiny generator whose sequence we own, so
// permutation results never change with the Go release.
type splitMix struct{ state uint64 }

func newSplitMix(seed uint64) *splitMix { return &splitMix{state: seed} }

func (s *splitMix) next() uint64 {
	s.state += 0x9e3779b97f4a7c15
	z := s.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform integer in [0, n), rejecting the biased low range.
func (s *splitMix) intn(n int) int {
	bound := uint64(n)
	threshold := -bound % bound
	for {
		if r := s.next(); r >= threshold {
			return int(r % bound)
		}
	}
}
