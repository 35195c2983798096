package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Outlier is a run whose score sits at the untrained level while the other
// seeds of its configuration learned: a seed that never took off, which
// can decide a verdict on three seeds by itself.
type Outlier struct {
	RunID  string
	Seed   int64
	Config string
	Metric string
	Value  float64
	// SiblingMedian is the median of the other seeds of the configuration.
	SiblingMedian float64
	Siblings      int
}

// String is the note a report shows for the outlier.
func (o Outlier) String() string {
	return fmt.Sprintf("run %s (seed %d, %s) did not learn: %s = %.3g, at the untrained level, while the median of its %d siblings is %.3g",
		shortID(o.RunID), o.Seed, o.Config, o.Metric, o.Value, o.Siblings, o.SiblingMedian)
}

// untrainedAtZero reports whether an untrained model scores about 0 on the
// metric, which is what makes "did not learn" decidable from the score:
// whole answers right (exact accuracy, valid or optimal solutions, pass@k)
// are out of reach of a model that learned nothing. Token accuracy starts
// at a chance level that depends on the task's vocabulary and the cells
// given away, and the halting metrics do not measure learning, so no run
// is flagged on them.
func untrainedAtZero(metric string) bool {
	return proportion(metric) && !slices.Contains([]string{"token_accuracy", "halt_probability", "halted_fraction"}, metric)
}

// outliers flags the usable samples at or below Untrained whose usable
// siblings (same configuration over keys, at least two of them) have a
// median at or above Learned.
func (r Rules) outliers(metric string, samples []sample, keys []string) []Outlier {
	if !untrainedAtZero(metric) {
		return nil
	}
	labels, byConfig := groupBy(samples, keys)
	var out []Outlier
	for _, l := range labels {
		group := byConfig[l]
		for i, s := range group {
			if !s.ok || s.y > r.Untrained {
				continue
			}
			var others []float64
			for j, o := range group {
				if j != i && o.ok {
					others = append(others, o.y)
				}
			}
			if m := median(others); len(others) >= 2 && m >= r.Learned {
				out = append(out, Outlier{RunID: s.run.ID, Seed: s.run.Config.Seed, Config: l, Metric: metric,
					Value: s.y, SiblingMedian: m, Siblings: len(others)})
			}
		}
	}
	return out
}

// withoutOutliers returns a copy of d in which the outliers' runs count as
// left out, so a second check lists them as excluded rather than losing them.
func withoutOutliers(d Data, outs []Outlier) Data {
	drop := map[string]bool{}
	for _, o := range outs {
		drop[o.RunID] = true
	}
	d.Runs = slices.Clone(d.Runs)
	for i, run := range d.Runs {
		if drop[run.ID] {
			d.Runs[i].Status, d.Runs[i].Error = "outlier", "did not learn while its siblings did; left out of this check"
		}
	}
	return d
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}
