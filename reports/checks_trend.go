package reports

import (
	"fmt"
	"math"
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
	v.Method = fmt.Sprintf("per stratum: Spearman ρ between %s and %s, one-sided permutation test at α = %g; effect = last − first level with %g%% CI (paired on seeds when possible), not reproduced when it lies below 0 or below the minimal effect %g",
		axis, v.Claim.Metric, r.Alpha, 100*r.level(), r.minEffect(v.Claim))
	samples := collect(d, v.Claim, &v.Excluded, where)
	v.Outliers = r.outliers(v.Claim.Metric, samples, vary)
	labels, strata := groupBy(samples, without(vary, append(where.Keys(), axis)...))
	for _, l := range labels {
		v.Tests = append(v.Tests, r.configTrend(l, strata[l], axis, v.Claim))
	}
	return combine(v)
}

func (r Rules) configTrend(stratum string, samples []sample, axis string, c experiments.Claim) TestResult {
	t := TestResult{Stratum: stratum, Statistic: "Spearman ρ", Value: math.NaN(), P: math.NaN()}
	byLevel, why := byAxis(samples, axis)
	if why != "" {
		return decided(t, Inconclusive, why)
	}
	levels := sortedKeys(byLevel)
	var block Block
	for _, x := range levels {
		ys := usable(byLevel[x])
		t.Groups = append(t.Groups, Group{Label: fmt.Sprintf("%s=%g", axis, x), Summary: summarizeMetric(c.Metric, ys), Runs: len(byLevel[x])})
		for _, y := range ys {
			block.X, block.Y = append(block.X, x), append(block.Y, y)
		}
	}
	if len(levels) < 2 {
		return decided(t, Inconclusive, fmt.Sprintf("only one level of %s", axis))
	}
	first, last := levels[0], levels[len(levels)-1]
	t.Effect = r.effect(fmt.Sprintf("%s %g → %g", axis, first, last), c.Metric, byLevel[last], byLevel[first], r.level(),
		func(s sample) string { return strconv.FormatInt(s.run.Config.Seed, 10) })
	// The trend is sized by its ends: a two-sample comparison of the first
	// and last level, which a steady rise over more levels only helps.
	a, b := t.Groups[0].Summary, t.Groups[len(t.Groups)-1].Summary
	t.Power = r.newPower(designMinP([]Block{block}), b.Mean-a.Mean, pooledSD(a, b), false, "seeds per level",
		max(r.MinSeeds, designSeeds(len(levels), r.Alpha)))
	test := func() {
		tr := TrendTest([]Block{block}, r.Permutations, r.Seed)
		t.Value, t.P, t.Power.MinP = tr.Rho, tr.P, tr.MinP
	}
	if reason := r.tooFew(t.Groups); reason != "" {
		// The test still runs, so the verdict shows what the data say.
		test()
		return decided(t, Inconclusive, reason)
	}
	if !attainable(t.Power.MinP, r.Alpha) {
		return decided(t, Inconclusive, r.needsSeeds(t, designSeeds(len(levels), r.Alpha), "seeds per level"))
	}
	test()
	return r.decideTrend(t, r.minEffect(c))
}

// byAxis groups samples by their value of a numeric axis, or says which
// value is not a number.
func byAxis(samples []sample, axis string) (map[float64][]sample, string) {
	byLevel := map[float64][]sample{}
	for _, s := range samples {
		x, ok := axisValue(s.run, axis)
		if !ok {
			return nil, fmt.Sprintf("%s=%q is not a number", axis, configText(s.run, axis))
		}
		byLevel[x] = append(byLevel[x], s)
	}
	return byLevel, ""
}

// needsSeeds is the reason given, before any test is run, when the design
// cannot reach α: how many runs there are and how many would do.
func (r Rules) needsSeeds(t TestResult, enough int, unit string) string {
	counts := make([]string, len(t.Groups))
	for i, g := range t.Groups {
		counts[i] = strconv.Itoa(g.Summary.N)
	}
	return fmt.Sprintf("needs more seeds: with %s usable runs at %s the permutation test cannot reach p ≤ %g whatever the data (smallest attainable p = %.3g); %d %s can",
		strings.Join(counts, ", "), groupLabels(t.Groups), r.Alpha, t.Power.MinP, enough, unit)
}

func groupLabels(groups []Group) string {
	labels := make([]string, len(groups))
	for i, g := range groups {
		labels[i] = g.Label
	}
	return strings.Join(labels, ", ")
}

// evalRunsNeeded is the fewest runs whose within-run permutation test can
// reach α, adding runs as short as the shortest curve present.
func evalRunsNeeded(blocks []Block, alpha float64) int {
	if len(blocks) == 0 {
		return 0
	}
	shortest := len(blocks[0].X)
	for _, b := range blocks {
		shortest = min(shortest, len(b.X))
	}
	n, p := len(blocks), designMinP(blocks)
	for ; !attainable(p, alpha); n++ {
		p /= factorial(shortest)
	}
	return n
}

// checkEvalTrend tests that the metric rises with inference loops within
// each run: every run is a block, so a run's curve is compared with
// shuffles of itself and runs are never pooled as if independent.
func (r Rules) checkEvalTrend(v Verdict, d Data, where experiments.Selector, strataKeys []string) Verdict {
	metric := v.Claim.Metric
	v.Method = fmt.Sprintf("per stratum: mean over runs of Spearman ρ between inference loops and %s, one-sided permutation test within runs at α = %g; effect = last − first loop count, paired by run, %g%% CI, not reproduced when it lies below 0 or below the minimal effect %g",
		metric, r.Alpha, 100*r.level(), r.minEffect(v.Claim))
	var samples []sample
	curves := map[string]map[int]float64{}
	for _, run := range d.Runs {
		if !where.Match(run.Config) {
			continue
		}
		s, why := curveSample(run, metric)
		if s.ok {
			curves[run.ID] = run.Evals[metric]
		} else {
			v.Excluded = append(v.Excluded, Exclusion{RunID: run.ID, Reason: why})
		}
		samples = append(samples, s)
	}
	v.Outliers = r.outliers(metric, samples, d.varying())
	labels, strata := groupBy(samples, strataKeys)
	for _, l := range labels {
		v.Tests = append(v.Tests, r.evalTrend(l, strata[l], curves, v.Claim))
	}
	return combine(v)
}

// curveSample is a run's inference-loop curve as a sample whose value is
// the curve's last point (what an outlier check reads), or why it has none.
func curveSample(run Run, metric string) (sample, string) {
	s := sample{run: run}
	byLoops := run.Evals[metric]
	switch {
	case run.Status != StatusDone:
		return s, strings.TrimSuffix("status "+run.Status+": "+run.Error, ": ")
	case len(byLoops) < 2:
		return s, fmt.Sprintf("%s recorded at fewer than two inference-loop counts", metric)
	}
	loops := sortedKeys(byLoops)
	for _, l := range loops {
		if y := byLoops[l]; !finite(y) {
			return s, fmt.Sprintf("%s is %v at eval.loops=%d (diverged)", metric, y, l)
		}
	}
	s.y, s.ok = byLoops[loops[len(loops)-1]], true
	return s, ""
}

func (r Rules) evalTrend(stratum string, samples []sample, curves map[string]map[int]float64, c experiments.Claim) TestResult {
	t := TestResult{Stratum: stratum, Statistic: "mean Spearman ρ", Value: math.NaN(), P: math.NaN()}
	byLoops := map[float64][]float64{}
	var blocks []Block
	var firstY, lastY []float64
	for _, s := range samples {
		if !s.ok {
			continue
		}
		curve := curves[s.run.ID]
		var b Block
		for _, l := range sortedKeys(curve) {
			b.X, b.Y = append(b.X, float64(l)), append(b.Y, curve[l])
			byLoops[float64(l)] = append(byLoops[float64(l)], curve[l])
		}
		blocks = append(blocks, b)
		firstY, lastY = append(firstY, b.Y[0]), append(lastY, b.Y[len(b.Y)-1])
	}
	for _, l := range sortedKeys(byLoops) {
		t.Groups = append(t.Groups, Group{Label: fmt.Sprintf("eval.loops=%g", l), Summary: summarizeMetric(c.Metric, byLoops[l]), Runs: len(byLoops[l])})
	}
	e := PairedDiff(lastY, firstY)
	lo, hi := effectCI(c.Metric, e, r.level())
	t.Effect = &Effect{Label: "last − first inference-loop count", Estimate: e, Level: r.level(), Lo: lo, Hi: hi}
	enough := max(r.MinSeeds, evalRunsNeeded(blocks, r.Alpha))
	t.Power = r.newPower(designMinP(blocks), e.Diff, e.SE*math.Sqrt(float64(e.N)), true, "runs", enough)
	if len(blocks) < r.MinSeeds {
		return decided(t, Inconclusive, fmt.Sprintf("%d usable runs of %d (need %d)", len(blocks), len(samples), r.MinSeeds))
	}
	if !attainable(t.Power.MinP, r.Alpha) {
		return decided(t, Inconclusive, r.needsSeeds(t, enough, "runs"))
	}
	tr := TrendTest(blocks, r.Permutations, r.Seed)
	t.Value, t.P, t.Power.MinP = tr.Rho, tr.P, tr.MinP
	return r.decideTrend(t, r.minEffect(c))
}

// decideTrend turns a trend test into an outcome. A significant ρ counts
// only if the last level is above the first (a rise-then-fall curve is not
// "increases"); evidence against the claim is an effect interval below 0
// or below the minimal effect; anything else is inconclusive, with the
// seeds that would settle it.
func (r Rules) decideTrend(t TestResult, minEffect float64) TestResult {
	e := t.Effect
	means := fmt.Sprintf("%s: %.3g → %.3g", e.Label, t.Groups[0].Summary.Mean, t.Groups[len(t.Groups)-1].Summary.Mean)
	stats := fmt.Sprintf("ρ = %.2f, %s", t.Value, fmtP(t.P))
	ci := fmt.Sprintf("%s: %.3g, %g%% CI [%.3g, %.3g]", e.Label, e.Diff, 100*e.Level, e.Lo, e.Hi)
	switch {
	case t.P <= r.Alpha && e.Diff > 0:
		return decided(t, Reproduced, stats+"; "+means)
	case e.Hi < 0:
		return decided(t, NotReproduced, fmt.Sprintf("%s; %s lies below 0: the metric falls", stats, ci))
	case e.Hi < minEffect:
		return decided(t, NotReproduced, fmt.Sprintf("%s; %s lies below the minimal effect %g: any rise is too small to matter", stats, ci, minEffect))
	case t.P <= r.Alpha:
		return decided(t, Inconclusive, fmt.Sprintf("%s, but the last level is not above the first; %s", stats, ci))
	}
	return decided(t, Inconclusive, fmt.Sprintf("%s: no significant rise, nor evidence against one (%s reaches the minimal effect %g); %s",
		stats, ci, minEffect, t.Power.needs()))
}
