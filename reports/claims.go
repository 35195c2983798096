package reports

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"outerloop/experiments"
)

// Outcome is a claim's verdict.
type Outcome string

// The three verdicts. NotReproduced needs evidence against the claim: an
// interval wholly on the wrong side of zero or wholly below the minimal
// effect of interest. Data that neither show the claim nor speak against it
// (too few seeds, a design whose test cannot reach α, an interval that
// reaches both sides of the minimal effect) are Inconclusive.
const (
	Reproduced    Outcome = "reproduced"
	NotReproduced Outcome = "not reproduced"
	Inconclusive  Outcome = "inconclusive"
)

// Rules are the thresholds claim checks use.
type Rules struct {
	// Alpha is the significance level of every one-sided test; intervals
	// that decide a verdict are two-sided at 1 − 2α, so each bound is a
	// one-sided test at α.
	Alpha float64
	// MinSeeds is the fewest usable runs a level or side needs.
	MinSeeds int
	// MinEffect is the smallest effect worth finding, in the metric's
	// units, for claims that do not set min_effect.
	MinEffect float64
	// Power is the power the seeds-needed estimate aims for.
	Power float64
	// Untrained is how far above 0 a score may be and still count as
	// untrained; Learned is the median the other seeds of the configuration
	// must reach for such a run to be flagged as one that did not learn.
	Untrained, Learned float64
	// Permutations is the sample size of permutation tests too large to
	// enumerate; Seed makes them reproducible.
	Permutations int
	Seed         uint64
}

// DefaultRules returns α = 0.05, three seeds (issue 8 asks for ≥ 3, and with
// two the t quantile of 12.7 at 1 df makes any interval useless), a minimal
// effect of 0.05 (the ±5 points the shipped within claims call "the same"),
// 80% power, and flags a run at ≤ 0.02 whose siblings' median is ≥ 0.10.
func DefaultRules() Rules {
	return Rules{Alpha: 0.05, MinSeeds: 3, MinEffect: 0.05, Power: 0.8, Untrained: 0.02, Learned: 0.10, Permutations: 20000, Seed: 1}
}

// String states the rules for a report's reader.
func (r Rules) String() string {
	return fmt.Sprintf("α = %g (one-sided; the intervals that decide verdicts are at %g%%), at least %d usable seeds per level or side, "+
		"minimal effect %g unless a claim sets min_effect, seeds needed sized for %g%% power, "+
		"a run at ≤ %g flagged as not learning when its siblings' median is ≥ %g, %d permutations, seed %d; "+
		"intervals of proportions are Wilson score intervals with an effective sample size",
		r.Alpha, 100*r.level(), r.MinSeeds, r.MinEffect, 100*r.Power, r.Untrained, r.Learned, r.Permutations, r.Seed)
}

// Verdict is the outcome of checking one claim, with the numbers behind it.
type Verdict struct {
	Claim   experiments.Claim
	Outcome Outcome
	// Reason says in one sentence why, with the deciding numbers.
	Reason string
	// Method names the test.
	Method string
	// Tests holds one result per stratum (increases_with checks every
	// combination of the other varying keys) or a single one.
	Tests []TestResult
	// Excluded lists runs that matched the claim but gave no usable value.
	Excluded []Exclusion
	// Outliers are runs that did not learn while the other seeds of their
	// configuration did. They count in this verdict; WithoutOutliers is the
	// same check with them left out, nil when there are none.
	Outliers        []Outlier
	WithoutOutliers *Verdict
}

// TestResult is one statistical test behind a verdict.
type TestResult struct {
	Stratum string
	Outcome Outcome
	Reason  string
	// Groups summarise the metric per level of the axis, or per side.
	Groups []Group
	// Statistic names Value: "Spearman ρ" or "mean difference A − B".
	Statistic string
	Value     float64
	// P is the test's one-sided p-value (the larger of the two for TOST).
	P float64
	// Effect is last − first level, or A − B, with its confidence interval.
	Effect *Effect
	// Power is what the test can reach with these runs and about how many
	// seeds it would need; nil when the data give no effect to size.
	Power *Power
}

// Group is the metric across seeds for one level or side.
type Group struct {
	Label   string
	Summary Summary
	// Runs counts the runs that belong here, usable or not.
	Runs int
}

// Effect is a difference of means with an interval at Level.
type Effect struct {
	Label string
	Estimate
	Level, Lo, Hi float64
}

// Exclusion is a run left out of a claim, and why.
type Exclusion struct{ RunID, Reason string }

// Check checks one claim against the data with DefaultRules.
func Check(claim experiments.Claim, data Data) Verdict { return DefaultRules().Check(claim, data) }

// Check checks one claim against the data. It never fails: a malformed claim
// or missing data gives an Inconclusive verdict that says what is wrong.
// When runs did not learn while their siblings did, the claim is checked a
// second time without them (WithoutOutliers).
func (r Rules) Check(c experiments.Claim, d Data) Verdict {
	v := r.check(c, d)
	if len(v.Outliers) > 0 {
		w := r.check(c, withoutOutliers(d, v.Outliers))
		// One pass: a run that looks like an outlier only once its
		// sibling is gone is not chased further.
		w.Outliers = nil
		v.WithoutOutliers = &w
	}
	return v
}

// check is Check without the second pass.
func (r Rules) check(c experiments.Claim, d Data) Verdict {
	v := Verdict{Claim: c}
	kinds := 0
	for _, set := range []bool{c.IncreasesWith != "", c.Within != nil, c.Greater != nil} {
		if set {
			kinds++
		}
	}
	where, errWhere := experiments.ParseSelector(c.Where)
	switch {
	case c.Metric == "":
		return inconclusive(v, "the claim names no metric")
	case kinds != 1:
		return inconclusive(v, "the claim must set exactly one of increases_with, within and greater")
	case errWhere != nil:
		return inconclusive(v, "invalid where: "+errWhere.Error())
	case c.At < 0:
		return inconclusive(v, fmt.Sprintf("invalid at: %d is not an inference loop count", c.At))
	case !(c.MinEffect >= 0):
		return inconclusive(v, fmt.Sprintf("invalid min_effect: %g is not a positive effect size", c.MinEffect))
	case c.IncreasesWith != "":
		return r.checkIncreases(v, d, where)
	case c.Within != nil:
		return r.checkCompare(v, d, where, c.Within.A, c.Within.B)
	default:
		return r.checkCompare(v, d, where, c.Greater.A, c.Greater.B)
	}
}

// minEffect is the claim's smallest effect worth finding, or the default.
func (r Rules) minEffect(c experiments.Claim) float64 {
	if c.MinEffect > 0 {
		return c.MinEffect
	}
	return r.MinEffect
}

// level is the confidence level of the intervals that decide verdicts:
// two-sided 1 − 2α, so each bound is a one-sided test at α like the tests
// that show a claim.
func (r Rules) level() float64 { return 1 - 2*r.Alpha }

func inconclusive(v Verdict, reason string) Verdict {
	v.Outcome, v.Reason = Inconclusive, reason
	return v
}

// sample is one run's value for a claim.
type sample struct {
	run Run
	y   float64
	ok  bool
}

// collect reads the claim's metric, at the point it names, from every run
// all the selectors pick. Runs without a usable value stay in the list (so
// levels can count them) and are added to the exclusions with the reason.
func collect(d Data, c experiments.Claim, excl *[]Exclusion, sels ...experiments.Selector) []sample {
	var out []sample
	for _, r := range d.Runs {
		if !matchAll(sels, r) {
			continue
		}
		s := sample{run: r}
		var why string
		s.y, why = usableValue(r, c.Metric, c)
		s.ok = why == ""
		if !s.ok {
			*excl = append(*excl, Exclusion{RunID: r.ID, Reason: why})
		}
		out = append(out, s)
	}
	return out
}

// matchAll reports whether the run matches every selector.
func matchAll(sels []experiments.Selector, r Run) bool {
	for _, sel := range sels {
		if !sel.Match(r.Config) {
			return false
		}
	}
	return true
}

// usableValue reads a run's metric at the point at picks (see Run.value),
// or says why the run has no usable value.
func usableValue(r Run, metric string, at experiments.Claim) (float64, string) {
	y, err := r.value(metric, at)
	switch {
	case r.Status != StatusDone && r.Error != "":
		return 0, "status " + r.Status + ": " + r.Error
	case r.Status != StatusDone:
		return 0, "status " + r.Status
	case err != nil:
		return 0, err.Error()
	case !finite(y):
		return 0, fmt.Sprintf("%s is %v (diverged)", metric, y)
	}
	return y, ""
}

// groupBy splits samples by their label over keys, in sorted label order.
func groupBy(samples []sample, keys []string) ([]string, map[string][]sample) {
	groups := map[string][]sample{}
	for _, s := range samples {
		l := label(s.run, keys)
		groups[l] = append(groups[l], s)
	}
	return sortedLabels(groups), groups
}

func usable(samples []sample) []float64 {
	var ys []float64
	for _, s := range samples {
		if s.ok {
			ys = append(ys, s.y)
		}
	}
	return ys
}

// combine folds stratum outcomes as an intersection–union test: the claim
// holds only if it holds in every stratum, which needs no multiplicity
// correction.
func combine(v Verdict) Verdict {
	var not, inc []string
	for _, t := range v.Tests {
		switch t.Outcome {
		case NotReproduced:
			not = append(not, t.Stratum+": "+t.Reason)
		case Inconclusive:
			inc = append(inc, t.Stratum+": "+t.Reason)
		}
	}
	switch {
	case len(v.Tests) == 0:
		v.Outcome, v.Reason = Inconclusive, "no runs match the claim"
	case len(not) > 0:
		v.Outcome, v.Reason = NotReproduced, strings.Join(not, "; ")
	case len(inc) > 0:
		v.Outcome, v.Reason = Inconclusive, strings.Join(inc, "; ")
	default:
		v.Outcome = Reproduced
		if len(v.Tests) == 1 {
			v.Reason = v.Tests[0].Reason
		} else {
			v.Reason = fmt.Sprintf("holds in all %d strata", len(v.Tests))
		}
	}
	return v
}

// sortedLabels returns a map's keys in natural order, so "train.loops=16"
// comes after "train.loops=2".
func sortedLabels[V any](m map[string]V) []string {
	labels := make([]string, 0, len(m))
	for l := range m {
		labels = append(labels, l)
	}
	sort.Slice(labels, func(i, j int) bool { return naturalLess(labels[i], labels[j]) })
	return labels
}

// naturalLess compares strings with runs of digits compared as numbers.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			x, _ := strconv.ParseFloat(da, 64)
			y, _ := strconv.ParseFloat(db, 64)
			if x != y {
				return x < y
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digitPrefix returns the leading digits (and decimal point) of s.
func digitPrefix(s string) string {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || i > 0 && s[i] == '.') {
		i++
	}
	return strings.TrimSuffix(s[:i], ".")
}

// fmtP formats a p-value for reasons.
func fmtP(p float64) string {
	if p < 0.0001 {
		return "p < 0.0001"
	}
	return "p = " + strconv.FormatFloat(p, 'g', 2, 64)
}
