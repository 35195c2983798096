package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"outerloop/experiments"
)

// checkIncreases tests a rising trend along a config key (train.loops), or
// along inference loops when the axis is eval.loops and the grid does not
// sweep it. Each combination of the other varying keys is its own stratum.
func (r Rules) checkIncreases(v Verdict, d Data, where experiments.Selector) Verdict {
	axis := v.Claim.IncreasesWith
	vary := d.varying()
	if !contains(vary, axis) {
		if axis != "eval.loops" {
			return inconclusive(v, fmt.Sprintf("%s takes a single value across the runs, so there is no axis to test", axis))
		}
		return r.checkEvalTrend(v, d, where, without(vary, where.Keys()...))
	}
	v.Method = fmt.Sprintf("per stratum: Spearman ρ between %s and %s, one-sided permutation test at α = %g; effect = last − first level with 95%% CI (paired on seeds when possible)",
		axis, v.Claim.Metric, r.Alpha)
	samples := collect(d, v.Claim, &v.Excluded, where)
	labels, strata := groupBy(samples, without(vary, append(where.Keys(), axis)...))
	for _, l := range labels {
		v.Tests = append(v.Tests, r.configTrend(l, strata[l], axis, v.Claim.Metric))
	}
	return combine(v)
}

func (r Rules) configTrend(stratum string, samples []sample, axis, metric string) TestResult {
	t := TestResult{Stratum: stratum, Statistic: "Spearman ρ", Value: math.NaN(), P: math.NaN()}
	byLevel := map[float64][]sample{}
	for _, s := range samples {
		x, ok := axisValue(s.run, axis)
		if !ok {
			return decided(t, Inconclusive, fmt.Sprintf("%s=%q is not a number", axis, configText(s.run, axis)))
		}
		byLevel[x] = append(byLevel[x], s)
	}
	levels := sortedKeys(byLevel)
	var block Block
	for _, x := range levels {
		ys := usable(byLevel[x])
		t.Groups = append(t.Groups, Group{Label: fmt.Sprintf("%s=%g", axis, x), Summary: r.summarize(metric, ys), Runs: len(byLevel[x])})
		for _, y := range ys {
			block.X, block.Y = append(block.X, x), append(block.Y, y)
		}
	}
	if len(levels) < 2 {
		return decided(t, Inconclusive, fmt.Sprintf("only one level of %s", axis))
	}
	first, last := levels[0], levels[len(levels)-1]
	t.Effect = r.effect(fmt.Sprintf("%s %g → %g", axis, first, last), byLevel[last], byLevel[first], 0.95,
		func(s sample) string { return strconv.FormatInt(s.run.Config.Seed, 10) })
	// The test runs even when a level is short, so an inconclusive verdict
	// still shows what the data say.
	tr := TrendTest([]Block{block}, r.Permutations, r.Seed)
	t.Value, t.P = tr.Rho, tr.P
	if reason := r.tooFew(t.Groups); reason != "" {
		return decided(t, Inconclusive, reason)
	}
	return r.decideTrend(t, tr)
}

// checkEvalTrend tests that the metric rises with inference loops within
// each run: every run is a block, so a run's curve is compared with
// shuffles of itself and runs are never pooled as if independent.
func (r Rules) checkEvalTrend(v Verdict, d Data, where experiments.Selector, strataKeys []string) Verdict {
	metric := v.Claim.Metric
	v.Method = fmt.Sprintf("per stratum: mean over runs of Spearman ρ between inference loops and %s, one-sided permutation test within runs at α = %g; effect = last − first loop count, paired by run, 95%% CI",
		metric, r.Alpha)
	var samples []sample
	curves := map[string]map[int]float64{}
	for _, run := range d.Runs {
		if !where.Match(run.Config) {
			continue
		}
		s := sample{run: run}
		why := ""
		switch byLoops := run.Evals[metric]; {
		case run.Status != StatusDone:
			why = strings.TrimSuffix("status "+run.Status+": "+run.Error, ": ")
		case len(byLoops) < 2:
			why = fmt.Sprintf("%s recorded at fewer than two inference-loop counts", metric)
		default:
			s.ok = true
			for l, y := range byLoops {
				if !finite(y) {
					s.ok, why = false, fmt.Sprintf("%s is %v at eval.loops=%d (diverged)", metric, y, l)
				}
			}
			curves[run.ID] = byLoops
		}
		if !s.ok {
			v.Excluded = append(v.Excluded, Exclusion{RunID: run.ID, Reason: why})
		}
		samples = append(samples, s)
	}
	labels, strata := groupBy(samples, strataKeys)
	for _, l := range labels {
		v.Tests = append(v.Tests, r.evalTrend(l, strata[l], curves, metric))
	}
	return combine(v)
}

func (r Rules) evalTrend(stratum string, samples []sample, curves map[string]map[int]float64, metric string) TestResult {
	t := TestResult{Stratum: stratum, Statistic: "mean Spearman ρ", Value: math.NaN(), P: math.NaN()}
	byLoops := map[float64][]float64{}
	var blocks []Block
	var firstY, lastY []float64
	for _, s := range samples {
		if !s.ok {
			continue
		}
		c := curves[s.run.ID]
		var b Block
		for _, l := range sortedKeys(c) {
			b.X, b.Y = append(b.X, float64(l)), append(b.Y, c[l])
			byLoops[float64(l)] = append(byLoops[float64(l)], c[l])
		}
		blocks = append(blocks, b)
		firstY, lastY = append(firstY, b.Y[0]), append(lastY, b.Y[len(b.Y)-1])
	}
	for _, l := range sortedKeys(byLoops) {
		t.Groups = append(t.Groups, Group{Label: fmt.Sprintf("eval.loops=%g", l), Summary: r.summarize(metric, byLoops[l]), Runs: len(byLoops[l])})
	}
	e := PairedDiff(lastY, firstY)
	lo, hi := e.CI(0.95)
	t.Effect = &Effect{Label: "last − first inference-loop count", Estimate: e, Level: 0.95, Lo: lo, Hi: hi}
	tr := TrendTest(blocks, r.Permutations, r.Seed)
	t.Value, t.P = tr.Rho, tr.P
	if len(blocks) < r.MinSeeds {
		return decided(t, Inconclusive, fmt.Sprintf("%d usable runs of %d (need %d)", len(blocks), len(samples), r.MinSeeds))
	}
	return r.decideTrend(t, tr)
}

// decideTrend turns a trend test into an outcome: the design must be able to
// reach α, and a significant ρ counts only if the last level is above the
// first (a rise-then-fall curve is not "increases").
func (r Rules) decideTrend(t TestResult, tr Trend) TestResult {
	t.Value, t.P = tr.Rho, tr.P
	effect := fmt.Sprintf("%s: %.3g → %.3g", t.Effect.Label, t.Groups[0].Summary.Mean, t.Groups[len(t.Groups)-1].Summary.Mean)
	stats := fmt.Sprintf("ρ = %.2f, %s", tr.Rho, fmtP(tr.P))
	switch {
	case tr.MinP > r.Alpha:
		return decided(t, Inconclusive, fmt.Sprintf("with these runs the permutation test cannot reach p ≤ %g (smallest attainable p = %.3g); add seeds or levels", r.Alpha, tr.MinP))
	case tr.P <= r.Alpha && t.Effect.Diff > 0:
		return decided(t, Reproduced, stats+"; "+effect)
	case tr.P <= r.Alpha:
		return decided(t, NotReproduced, stats+" but the last level is not above the first; "+effect)
	}
	return decided(t, NotReproduced, stats+" (no significant rise); "+effect)
}

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
	t := TestResult{Stratum: "all runs", Statistic: "mean difference A − B", Value: math.NaN(), P: math.NaN()}
	t.Groups = []Group{
		{Label: "A: " + a, Summary: r.summarize(metric, usable(sa)), Runs: len(sa)},
		{Label: "B: " + b, Summary: r.summarize(metric, usable(sb)), Runs: len(sb)},
	}
	key := func(s sample) string {
		return label(s.run, matchKeys) + ", seed=" + strconv.FormatInt(s.run.Config.Seed, 10)
	}
	level := 1 - 2*r.Alpha
	t.Effect = r.effect("A − B", sa, sb, level, key)
	v.Method = fmt.Sprintf("%s on %s, %g%% CI", map[bool]string{true: "paired t", false: "Welch t"}[t.Effect.Paired],
		map[bool]string{true: "pairs sharing seed and " + strings.Join(matchKeys, ", "), false: "independent runs"}[t.Effect.Paired], 100*level)
	if t.Effect.Paired {
		t.Groups = append(t.Groups, r.pairGroups(sa, sb, matchKeys, key)...)
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
		v.Method = "one-sided test, " + v.Method
		v.Tests = []TestResult{r.decideGreater(t, v.Claim.Greater.Margin)}
	}
	return combine(v)
}

func (r Rules) decideWithin(t TestResult, delta float64) TestResult {
	e := t.Effect
	t.Value, t.P = e.Diff, math.Max(e.PGreater(-delta), e.PLess(delta))
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
		return decided(t, Inconclusive, fmt.Sprintf("%s is wider than ±%g, so equivalence cannot be shown whatever the mean: more seeds needed", ci, delta))
	}
	// The interval straddles a bound: equivalence is not shown, and neither
	// is a difference larger than delta.
	return decided(t, Inconclusive, fmt.Sprintf("%s reaches beyond ±%g but is not outside it (TOST %s): neither equivalence nor a larger difference is shown; more seeds would decide", ci, delta, fmtP(t.P)))
}

func (r Rules) decideGreater(t TestResult, margin float64) TestResult {
	e := t.Effect
	t.Value, t.P = e.Diff, e.PGreater(margin)
	ci := fmt.Sprintf("A − B = %.3g, %g%% CI [%.3g, %.3g]", e.Diff, 100*e.Level, e.Lo, e.Hi)
	switch {
	case math.IsNaN(t.P):
		return decided(t, Inconclusive, "no standard error for the difference")
	case t.P <= r.Alpha:
		return decided(t, Reproduced, fmt.Sprintf("%s > %g (%s)", ci, margin, fmtP(t.P)))
	case e.PLess(margin) <= r.Alpha:
		return decided(t, NotReproduced, fmt.Sprintf("%s: A − B is shown to be below %g (one-sided p = %.2g the other way)", ci, margin, e.PLess(margin)))
	}
	return decided(t, Inconclusive, fmt.Sprintf("%s: not shown to exceed %g, nor to fall below it (%s); more seeds would decide", ci, margin, fmtP(t.P)))
}

// effect estimates mean(a) − mean(b), paired through key when at least
// MinSeeds usable runs pair up, otherwise by Welch's t.
func (r Rules) effect(name string, a, b []sample, level float64, key func(sample) string) *Effect {
	pa, pb := pairs(a, b, key)
	var e Estimate
	if len(pa) >= r.MinSeeds {
		e = PairedDiff(pa, pb)
	} else {
		e = WelchDiff(usable(a), usable(b))
	}
	lo, hi := e.CI(level)
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
func (r Rules) pairGroups(a, b []sample, matchKeys []string, key func(sample) string) []Group {
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
		out = append(out, Group{Label: "A − B at " + l, Summary: Summarize(diffs), Runs: len(byA[l]) + len(byB[l])})
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

// summarize uses the bootstrap interval for pass@k metrics (proportions over
// few attempts) and Student's t otherwise.
func (r Rules) summarize(metric string, ys []float64) Summary {
	if strings.HasPrefix(metric, "pass@") {
		return SummarizeBootstrap(ys, r.Bootstrap, r.Seed)
	}
	return Summarize(ys)
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
