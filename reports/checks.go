package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"outerloop/experiments"
)

// checkCompare tests within (equivalence) and greater (one-sided) claims on
// runs selected by A and B, paired on every other varying key and the seed
// when the grid crosses them, which removes the variance those keys add.
func (r Rules) checkCompare(v Verdict, d Data, where experiments.Selector, a, b string) Verdict {
	selA, errA := experiments.ParseSelector(a)
	selB, errB := experiments.ParseSelector(b)
	switch {
	case errA != nil || errB != nil:
		return inconclusive(v, fmt.Sprintf("invalid selector: %v", firstErr(errA, errB)))
	case len(selA.Keys()) == 0 || len(selB.Keys()) == 0:
		return inconclusive(v, "a and b must each select runs (key=value)")
	}
	metric := v.Claim.Metric
	matchKeys := without(d.varying(), append(append(where.Keys(), selA.Keys()...), selB.Keys()...)...)
	sa := collect(d, v.Claim, &v.Excluded, where, selA)
	sb := collect(d, v.Claim, &v.Excluded, where, selB)
	if overlap(sa, sb) {
		return inconclusive(v, "a and b select some of the same runs")
	}
	v.Outliers = r.outliers(metric, append(append([]sample(nil), sa...), sb...), d.varying())
	t := TestResult{Stratum: "all runs", Statistic: "mean difference A − B", Value: math.NaN(), P: math.NaN()}
	t.Groups = []Group{
		{Label: "A: " + a, Summary: summarizeMetric(metric, usable(sa)), Runs: len(sa)},
		{Label: "B: " + b, Summary: summarizeMetric(metric, usable(sb)), Runs: len(sb)},
	}
	key := func(s sample) string {
		return label(s.run, matchKeys) + ", seed=" + strconv.FormatInt(s.run.Config.Seed, 10)
	}
	level := r.level()
	t.Effect = r.effect("A − B", metric, sa, sb, level, key)
	v.Method = fmt.Sprintf("%s on %s, %g%% CI", map[bool]string{true: "paired t", false: "Welch t"}[t.Effect.Paired],
		map[bool]string{true: "pairs sharing seed and " + strings.Join(matchKeys, ", "), false: "independent runs"}[t.Effect.Paired], 100*level)
	if t.Effect.Paired {
		t.Groups = append(t.Groups, pairGroups(metric, sa, sb, matchKeys, key)...)
		v.Excluded = append(v.Excluded, unpaired(sa, sb, "B", key)...)
		v.Excluded = append(v.Excluded, unpaired(sb, sa, "A", key)...)
	}
	pa, _ := pairs(sa, sb, key)
	if reason := r.tooFewCompare(t, len(pa)); reason != "" {
		v.Tests = []TestResult{decided(t, Inconclusive, reason)}
		return combine(v)
	}
	if v.Claim.Within != nil {
		v.Method = "two one-sided tests (TOST), " + v.Method
		v.Tests = []TestResult{r.decideWithin(t, v.Claim.Within.Delta)}
	} else {
		v.Method = fmt.Sprintf("one-sided test, %s; not reproduced when the interval lies below the larger of margin and the minimal effect %g", v.Method, r.minEffect(v.Claim))
		v.Tests = []TestResult{r.decideGreater(t, v.Claim.Greater.Margin, r.minEffect(v.Claim))}
	}
	return combine(v)
}

func (r Rules) decideWithin(t TestResult, delta float64) TestResult {
	e := t.Effect
	t.Value, t.P = e.Diff, math.Max(e.PGreater(-delta), e.PLess(delta))
	t.Power = r.comparePower(t, delta-math.Abs(e.Diff))
	ci := fmt.Sprintf("A − B = %.3g, %g%% CI [%.3g, %.3g]", e.Diff, 100*e.Level, e.Lo, e.Hi)
	switch {
	case !(delta > 0):
		return decided(t, Inconclusive, fmt.Sprintf("delta must be positive, got %g", delta))
	case math.IsNaN(t.P):
		return decided(t, Inconclusive, "no standard error for the difference")
	case e.Lo >= delta || e.Hi <= -delta:
		return decided(t, NotReproduced, fmt.Sprintf("%s lies outside ±%g: A and B differ by more than delta", ci, delta))
	case t.P <= r.Alpha:
		return decided(t, Reproduced, fmt.Sprintf("%s inside ±%g (TOST %s)", ci, delta, fmtP(t.P)))
	case (e.Hi-e.Lo)/2 >= delta:
		return decided(t, Inconclusive, fmt.Sprintf("%s is wider than ±%g, so equivalence cannot be shown whatever the mean: more seeds needed; %s", ci, delta, t.Power.needs()))
	}
	// The interval straddles a bound: equivalence is not shown, and neither
	// is a difference larger than delta.
	return decided(t, Inconclusive, fmt.Sprintf("%s reaches beyond ±%g but is not outside it (TOST %s): neither equivalence nor a larger difference is shown; %s", ci, delta, fmtP(t.P), t.Power.needs()))
}

// decideGreater shows A − B > margin by a one-sided t test. The data speak
// against it when the interval lies below margin, or below the minimal
// effect when that is larger: a margin is the claim's own smallest effect
// worth finding, and min_effect only raises it.
func (r Rules) decideGreater(t TestResult, margin, minEffect float64) TestResult {
	e := t.Effect
	t.Value, t.P = e.Diff, e.PGreater(margin)
	t.Power = r.comparePower(t, e.Diff-margin)
	ci := fmt.Sprintf("A − B = %.3g, %g%% CI [%.3g, %.3g]", e.Diff, 100*e.Level, e.Lo, e.Hi)
	bound := math.Max(margin, minEffect)
	switch {
	case math.IsNaN(t.P):
		return decided(t, Inconclusive, "no standard error for the difference")
	case t.P <= r.Alpha:
		return decided(t, Reproduced, fmt.Sprintf("%s > %g (%s)", ci, margin, fmtP(t.P)))
	case e.Hi < margin:
		return decided(t, NotReproduced, fmt.Sprintf("%s: A − B is shown to be below %g", ci, margin))
	case e.Hi < bound:
		return decided(t, NotReproduced, fmt.Sprintf("%s lies below the minimal effect %g: any advantage is too small to matter", ci, bound))
	}
	return decided(t, Inconclusive, fmt.Sprintf("%s: not shown to exceed %g (%s), nor to fall below %g; %s",
		ci, margin, fmtP(t.P), bound, t.Power.needs()))
}

// comparePower sizes a comparison's effect: by the spread of the paired
// differences when the runs pair up, else by the two sides' pooled SD.
func (r Rules) comparePower(t TestResult, effect float64) *Power {
	if e := t.Effect; e.Paired {
		return r.newPower(0, effect, e.SE*math.Sqrt(float64(e.N)), true, "pairs", r.MinSeeds)
	}
	return r.newPower(0, effect, pooledSD(t.Groups[0].Summary, t.Groups[1].Summary), false, "seeds per side", r.MinSeeds)
}

// effect estimates mean(a) − mean(b), paired through key when at least
// MinSeeds usable runs pair up, otherwise by Welch's t, with the interval
// the metric's range calls for.
func (r Rules) effect(name, metric string, a, b []sample, level float64, key func(sample) string) *Effect {
	pa, pb := pairs(a, b, key)
	var e Estimate
	if len(pa) >= r.MinSeeds {
		e = PairedDiff(pa, pb)
	} else {
		e = WelchDiff(usable(a), usable(b))
	}
	lo, hi := effectCI(metric, e, level)
	return &Effect{Label: name, Estimate: e, Level: level, Lo: lo, Hi: hi}
}

// pairs aligns the usable samples of a and b that share a key.
func pairs(a, b []sample, key func(sample) string) (pa, pb []float64) {
	byKey := map[string]sample{}
	for _, s := range b {
		if s.ok {
			byKey[key(s)] = s
		}
	}
	sorted := append([]sample(nil), a...)
	sort.SliceStable(sorted, func(i, j int) bool { return key(sorted[i]) < key(sorted[j]) })
	for _, s := range sorted {
		if m, ok := byKey[key(s)]; ok && s.ok {
			pa, pb = append(pa, s.y), append(pb, m.y)
		}
	}
	return pa, pb
}

// pairGroups summarises A − B per combination of the matched keys, so a
// pooled difference that hides a trend (a gap closing with loops) shows.
func pairGroups(metric string, a, b []sample, matchKeys []string, key func(sample) string) []Group {
	if len(matchKeys) == 0 {
		return nil
	}
	labels, byA := groupBy(a, matchKeys)
	_, byB := groupBy(b, matchKeys)
	var out []Group
	for _, l := range labels {
		pa, pb := pairs(byA[l], byB[l], key)
		diffs := make([]float64, len(pa))
		for i := range pa {
			diffs[i] = pa[i] - pb[i]
		}
		out = append(out, Group{Label: "A − B at " + l, Summary: summarizeDiffs(metric, diffs), Runs: len(byA[l]) + len(byB[l])})
	}
	return out
}

// tooFew names the first level with fewer than MinSeeds usable runs.
func (r Rules) tooFew(groups []Group) string {
	for _, g := range groups {
		if g.Summary.N < r.MinSeeds {
			return fmt.Sprintf("%s has %d usable runs of %d (need %d)", g.Label, g.Summary.N, g.Runs, r.MinSeeds)
		}
	}
	return ""
}

// tooFewCompare says why a comparison cannot be made: fewer than MinSeeds
// pairs and too few runs on a side for an unpaired test.
func (r Rules) tooFewCompare(t TestResult, nPairs int) string {
	if t.Effect.Paired {
		return ""
	}
	if reason := r.tooFew(t.Groups[:2]); reason != "" {
		return fmt.Sprintf("%s, and %d runs pair up on shared seeds", reason, nPairs)
	}
	return ""
}

// unpaired lists usable runs of a with no usable partner in b.
func unpaired(a, b []sample, side string, key func(sample) string) []Exclusion {
	partner := map[string]bool{}
	for _, s := range b {
		if s.ok {
			partner[key(s)] = true
		}
	}
	var out []Exclusion
	for _, s := range a {
		if s.ok && !partner[key(s)] {
			out = append(out, Exclusion{RunID: s.run.ID, Reason: "no usable run in " + side + " with " + key(s) + " to pair with"})
		}
	}
	return out
}

func decided(t TestResult, o Outcome, reason string) TestResult {
	t.Outcome, t.Reason = o, reason
	return t
}

func overlap(a, b []sample) bool {
	ids := map[string]bool{}
	for _, s := range a {
		ids[s.run.ID] = true
	}
	for _, s := range b {
		if ids[s.run.ID] {
			return true
		}
	}
	return false
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[K int | float64, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
