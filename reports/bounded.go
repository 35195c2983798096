package reports

import (
	"math"
	"slices"
	"strings"

	"outerloop/experiments"
)

// BoundedCI is the two-sided interval at level for an estimate that must lie
// in [lo, hi]: a mean across seeds of proportions ([0, 1]) or a difference
// of two such means ([−1, 1]). It is Wilson's score interval for the
// estimate rescaled to [0, 1], with the effective sample size n = u(1−u)/se²
// that gives it the observed standard error, and Student's t quantile at df
// in place of z, as Korn and Graubard do for proportions from clustered
// samples: the seeds, not the puzzles, are the units. Far from the bounds
// it is close to the t interval; near one it leans away from it and never
// crosses it, where a clipped t interval would keep a symmetric shape the
// data cannot have. A zero se gives the estimate itself; an estimate at or outside a
// bound with nonzero se (values outside the bounds) gets the t interval.
func BoundedCI(est, se, df, level, lo, hi float64) (float64, float64) {
	q := TQuantile(1-(1-level)/2, df)
	w := hi - lo
	u, s := (est-lo)/w, se/w
	switch {
	case math.IsNaN(est) || math.IsNaN(se) || math.IsNaN(q):
		return math.NaN(), math.NaN()
	case se == 0:
		return est, est
	case !(u > 0 && u < 1):
		return est - q*se, est + q*se
	}
	n := u * (1 - u) / (s * s)
	k := q * q / n
	center := (u + k/2) / (1 + k)
	half := q * math.Sqrt(s*s+k/(4*n)) / (1 + k)
	// The score interval lies in [0, 1] exactly; the clamp only absorbs
	// rounding in the last bit.
	return lo + w*math.Max(0, center-half), lo + w*math.Min(1, center+half)
}

// SummarizeProportion is Summarize for values in [0, 1] (accuracies, pass@k,
// halting fractions): the 95% interval is BoundedCI's, so it stays inside
// [0, 1] and contains the mean. Values outside [0, 1] are not proportions
// and keep the t interval, labelled "t".
func SummarizeProportion(xs []float64) Summary { return summarizeBounded(xs, 0, 1) }

// summarizeBounded is Summarize with BoundedCI's 95% interval for values
// that lie in [lo, hi], labelled "wilson".
func summarizeBounded(xs []float64, lo, hi float64) Summary {
	s := Summarize(xs)
	if s.N < 2 || slices.ContainsFunc(xs, func(x float64) bool { return !(x >= lo && x <= hi) }) {
		return s
	}
	s.Lo, s.Hi = BoundedCI(s.Mean, s.SD/math.Sqrt(float64(s.N)), float64(s.N-1), 0.95, lo, hi)
	s.Method = "wilson"
	return s
}

// proportion reports whether a metric's values are proportions in [0, 1]:
// every evaluation metric a claim may name, and pass@k at any k.
func proportion(metric string) bool {
	return slices.Contains(experiments.Metrics(), metric) || strings.HasPrefix(metric, "pass@")
}

// summarizeMetric summarises a metric across seeds with the interval its
// range calls for: bounded for proportions, Student's t otherwise (loss).
func summarizeMetric(metric string, ys []float64) Summary {
	if proportion(metric) {
		return SummarizeProportion(ys)
	}
	return Summarize(ys)
}

// summarizeDiffs summarises paired differences of metric: bounded to
// [−1, 1] for proportions, Student's t otherwise.
func summarizeDiffs(metric string, ds []float64) Summary {
	if proportion(metric) {
		return summarizeBounded(ds, -1, 1)
	}
	return Summarize(ds)
}

// intervalText names the interval summarizeMetric gives metric, for captions.
func intervalText(metric string) string {
	if proportion(metric) {
		return "Wilson score interval with an effective sample size, inside [0, 1]"
	}
	return "Student t"
}

// effectCI is the interval of a difference of metric values: bounded to
// [−1, 1] for proportions, Student's t otherwise.
func effectCI(metric string, e Estimate, level float64) (lo, hi float64) {
	if proportion(metric) {
		return BoundedCI(e.Diff, e.SE, e.DF, level, -1, 1)
	}
	return e.CI(level)
}
