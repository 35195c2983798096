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

// The three verdicts. Inconclusive is reserved for data that cannot decide
// (too few seeds or runs, failed runs, a design whose test cannot reach α, an
// interval too wide to show equivalence); a claim the data could have shown
// but did not is NotReproduced.
const (
	Reproduced    Outcome = "reproduced"
	NotReproduced Outcome = "not reproduced"
	Inconclusive  Outcome = "inconclusive"
)

// Rules are the thresholds claim checks use.
type Rules struct {
	// Alpha is the significance level of every one-sided test.
	Alpha float64
	// MinSeeds is the fewest usable runs a level or side needs.
	MinSeeds int
	// Permutations is the sample size of permutation tests too large to
	// enumerate; Bootstrap the number of bootstrap resamples.
	Permutations int
	Bootstrap    int
	// Seed makes permutation and bootstrap results reproducible.
	Seed uint64
}

// DefaultRules returns α = 0.05 and three seeds: issue 8 asks for ≥ 3 seeds,
// and with two the t quantile (12.7 at 1 df) makes any interval useless.
func DefaultRules() Rules {
	return Rules{Alpha: 0.05, MinSeeds: 3, Permutations: 20000, Bootstrap: 10000, Seed: 1}
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
func (r Rules) Check(c experiments.Claim, d Data) Verdict {
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
	case c.IncreasesWith != "":
		return r.checkIncreases(v, d, where)
	case c.Within != nil:
		return r.checkCompare(v, d, where, c.Within.A, c.Within.B)
	default:
		return r.checkCompare(v, d, where, c.Greater.A, c.Greater.B)
	}
}

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
