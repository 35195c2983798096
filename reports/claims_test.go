package reports

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"outerloop/experiments"
)

// noise is a fixed pseudo-random offset in [-amp, amp] per (seed, salt), so
// hand-made data has seed-to-seed spread without a random source.
func noise(seed int64, salt int, amp float64) float64 {
	r := newSplitMix(uint64(seed)*1000003 + uint64(salt))
	return amp * (2*float64(r.next()>>11)/float64(1<<53) - 1)
}

// loopsGrid makes done runs over train.loops × model.core × seeds whose final
// exact_accuracy (at eval.loops=4) is acc(core, loops, seed); the eval curve
// over inference loops 1..4 rises by 0.05 a loop up to it.
func loopsGrid(loops []int, cores []string, seeds []int64, acc func(core string, loops int, seed int64) float64) Data {
	var d Data
	for _, core := range cores {
		for _, l := range loops {
			for _, s := range seeds {
				y := acc(core, l, s)
				curve := map[int]float64{}
				for e := 1; e <= 4; e++ {
					curve[e] = y - 0.05*float64(4-e)
				}
				d.Runs = append(d.Runs, Run{
					ID:     fmt.Sprintf("%s-l%d-s%d", core, l, s),
					Config: runConfig(core, l, 4, s),
					Status: StatusDone,
					Evals:  map[string]map[int]float64{"exact_accuracy": curve},
				})
			}
		}
	}
	return d
}

func rising(core string, loops int, seed int64) float64 {
	return 0.2 + 0.08*math.Log2(float64(loops)) + noise(seed, loops, 0.02)
}

func flat(core string, loops int, seed int64) float64 {
	return 0.5 + noise(seed, loops+len(core), 0.05)
}

func fail(d Data, id, status, err string) Data {
	for i := range d.Runs {
		if d.Runs[i].ID == id {
			d.Runs[i].Status, d.Runs[i].Error = status, err
		}
	}
	return d
}

func setAcc(d Data, id string, v float64) Data {
	for i := range d.Runs {
		if d.Runs[i].ID == id {
			d.Runs[i].Evals = map[string]map[int]float64{"exact_accuracy": {4: v}}
		}
	}
	return d
}

var (
	loops4  = []int{1, 2, 4, 8}
	both    = []string{"hrm", "transformer"}
	seeds3  = []int64{1, 2, 3}
	seeds2  = []int64{1, 2}
	seeds5  = []int64{1, 2, 3, 4, 5}
	trainUp = experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops"}
	evalUp  = experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "eval.loops"}
)

func within(a, b string, delta float64) experiments.Claim {
	return experiments.Claim{Metric: "exact_accuracy", Within: &experiments.Within{A: a, B: b, Delta: delta}}
}

func greater(a, b string, margin float64) experiments.Claim {
	return experiments.Claim{Metric: "exact_accuracy", Greater: &experiments.Greater{A: a, B: b, Margin: margin}}
}

func TestCheck(t *testing.T) {
	hrmAhead := func(core string, loops int, seed int64) float64 {
		if core == "hrm" {
			return 0.6 + noise(seed, loops, 0.02)
		}
		return 0.4 + noise(seed, loops+7, 0.02)
	}
	close := func(core string, loops int, seed int64) float64 {
		return 0.5 + 0.02*float64(loops) + noise(seed, loops, 0.01) + map[string]float64{"hrm": 0.01}[core]
	}
	noisy := func(core string, loops int, seed int64) float64 {
		return 0.5 + noise(seed, loops+len(core)*31, 0.3)
	}
	// edge: hrm ahead by about delta, so the interval straddles +delta.
	edge := func(core string, loops int, seed int64) float64 {
		return 0.5 + noise(seed, loops, 0.01) + map[string]float64{"hrm": 0.05}[core] + noise(seed, loops+len(core)*17, 0.02)
	}
	falling := func(core string, loops int, seed int64) float64 { return 0.9 - rising(core, loops, seed) }
	same := func(core string, loops int, seed int64) float64 { return 0.5 + noise(seed, loops, 0.005) }
	tight := func(core string, loops int, seed int64) float64 {
		return 0.5 + 0.01*float64(loops) + noise(seed, 3*loops, 0.002)
	}
	withMin := func(c experiments.Claim, min float64) experiments.Claim { c.MinEffect = min; return c }
	short := Rules{Alpha: 0.05, MinSeeds: 2, MinEffect: 0.05, Power: 0.8, Permutations: 1000, Seed: 1}
	tests := []struct {
		name   string
		data   Data
		claim  experiments.Claim
		rules  Rules
		want   Outcome
		reason string // a substring the reason must contain
		tests  int
		excl   int
	}{
		{"rises in both cores", loopsGrid(loops4, both, seeds3, rising), trainUp, DefaultRules(), Reproduced, "holds in all 2 strata", 2, 0},
		{"rises in one core", loopsGrid(loops4, []string{"hrm"}, seeds3, rising), trainUp, DefaultRules(), Reproduced, "train.loops 1 → 8", 1, 0},
		{"flat", loopsGrid(loops4, both, seeds3, flat), trainUp, DefaultRules(), NotReproduced, "below the minimal effect 0.05", 2, 0},
		{"noisy flat", loopsGrid(loops4, both, seeds3, noisy), trainUp, DefaultRules(), Inconclusive, "no significant rise, nor evidence against one", 2, 0},
		{"falling", loopsGrid(loops4, both, seeds3, falling), trainUp, DefaultRules(), NotReproduced, "lies below 0: the metric falls", 2, 0},
		{"two seeds", loopsGrid(loops4, both, seeds2, rising), trainUp, DefaultRules(), Inconclusive, "has 2 usable runs of 2 (need 3)", 2, 0},
		{
			"failed run leaves a level short",
			fail(loopsGrid(loops4, both, seeds3, rising), "hrm-l8-s2", "failed", "loss is NaN at step 120"),
			trainUp, DefaultRules(), Inconclusive, "train.loops=8 has 2 usable runs of 3", 2, 1,
		},
		{
			"diverged value excluded",
			setAcc(loopsGrid(loops4, both, seeds3, rising), "transformer-l2-s1", math.NaN()),
			trainUp, DefaultRules(), Inconclusive, "train.loops=2 has 2 usable runs of 3", 2, 1,
		},
		{
			"design cannot reach alpha", loopsGrid([]int{1, 2}, []string{"hrm"}, seeds2, rising), trainUp, short, Inconclusive,
			"needs more seeds: with 2, 2 usable runs at train.loops=1, train.loops=2 the permutation test cannot reach p ≤ 0.05 whatever the data (smallest attainable p = 0.167); 3 seeds per level can", 1, 0,
		},
		{"two-point curves cannot reach alpha", twoPointCurves(loopsGrid([]int{4}, []string{"hrm"}, seeds3, rising)), evalUp, DefaultRules(), Inconclusive, "smallest attainable p = 0.125); 5 runs can", 1, 0},
		{"noisy rise", byHand(map[int][]float64{1: {0.30, 0.45, 0.20}, 4: {0.55, 0.35, 0.60}}), mazeClaim, DefaultRules(), Inconclusive, "about 7 seeds per level would show an effect this size", 1, 0},
		{"flat, tight", loopsGrid(loops4, []string{"hrm"}, seeds3, same), trainUp, DefaultRules(), NotReproduced, "lies below the minimal effect 0.05", 1, 0},
		{"flat, min_effect below the interval", loopsGrid(loops4, []string{"hrm"}, seeds3, same), withMin(trainUp, 0.001), DefaultRules(), Inconclusive, "reaches the minimal effect 0.001", 1, 0},
		{"a small rise is still a rise whatever min_effect", loopsGrid(loops4, []string{"hrm"}, seeds3, tight), withMin(trainUp, 0.2), DefaultRules(), Reproduced, "ρ = 0.9", 1, 0},
		{"axis does not vary", loopsGrid([]int{4}, both, seeds3, rising), trainUp, DefaultRules(), Inconclusive, "single value", 0, 0},
		{"where restricts strata", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Where: "model.core=hrm"}, DefaultRules(), Reproduced, "ρ = 0.97", 1, 0},
		{"no matching runs", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Where: "model.core=ut"}, DefaultRules(), Inconclusive, "no runs match", 0, 0},
		{"eval loops rise", loopsGrid(loops4, both, seeds3, rising), evalUp, DefaultRules(), Reproduced, "holds in all 8 strata", 8, 0},
		{"eval loops, two seeds", loopsGrid(loops4, both, seeds2, rising), evalUp, DefaultRules(), Inconclusive, "2 usable runs of 2 (need 3)", 8, 0},
		{"hrm ahead: within fails", loopsGrid(loops4, both, seeds3, hrmAhead), within("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), NotReproduced, "outside ±0.05", 1, 0},
		{"close cores: within holds", loopsGrid(loops4, both, seeds3, close), within("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), Reproduced, "inside ±0.05 (TOST", 1, 0},
		{"noisy cores: within inconclusive", loopsGrid(loops4, both, seeds3, noisy), within("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), Inconclusive, "wider than ±0.05, so equivalence cannot be shown whatever the mean: more seeds needed; about", 1, 0},
		{
			"within, two seeds at one loop count",
			loopsGrid([]int{4}, both, seeds2, close),
			within("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), Inconclusive, "has 2 usable runs of 2 (need 3), and 2 runs pair up", 1, 0,
		},
		{"greater holds", loopsGrid(loops4, both, seeds3, hrmAhead), greater("model.core=hrm", "model.core=transformer", 0.1), DefaultRules(), Reproduced, "> 0.1", 1, 0},
		{"greater reversed", loopsGrid(loops4, both, seeds3, hrmAhead), greater("model.core=transformer", "model.core=hrm", 0), DefaultRules(), NotReproduced, "shown to be below 0", 1, 0},
		{"greater undecided", loopsGrid([]int{1}, both, seeds3, edge), greater("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), Inconclusive, "nor to fall below 0.05", 1, 0},
		{"interval straddles delta: within inconclusive", loopsGrid(loops4, both, seeds3, edge), within("model.core=hrm", "model.core=transformer", 0.05), DefaultRules(), Inconclusive, "is not outside it", 1, 0},
		{"greater, no difference", loopsGrid([]int{1}, both, seeds3, same), greater("model.core=hrm", "model.core=transformer", 0), DefaultRules(), NotReproduced, "lies below the minimal effect 0.05", 1, 0},
		{"greater, margin above min_effect", loopsGrid([]int{1}, both, seeds3, same), withMin(greater("model.core=hrm", "model.core=transformer", 0.1), 0.02), DefaultRules(), NotReproduced, "shown to be below 0.1", 1, 0},
		{"greater, two seeds", loopsGrid([]int{1}, both, seeds2, hrmAhead), greater("model.core=hrm", "model.core=transformer", 0), DefaultRules(), Inconclusive, "need 3", 1, 0},
		{
			"greater, unpaired seeds use Welch",
			func() Data {
				a := loopsGrid([]int{1}, []string{"hrm"}, []int64{1, 2, 3}, hrmAhead)
				b := loopsGrid([]int{1}, []string{"transformer"}, []int64{4, 5, 6}, hrmAhead)
				return Data{Runs: append(a.Runs, b.Runs...)}
			}(),
			greater("model.core=hrm", "model.core=transformer", 0.1), DefaultRules(), Reproduced, "> 0.1", 1, 0,
		},
		{"same runs on both sides", loopsGrid(loops4, both, seeds3, hrmAhead), greater("train.loops=1", "model.core=hrm", 0), DefaultRules(), Inconclusive, "same runs", 0, 0},
		{"no metric", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{IncreasesWith: "train.loops"}, DefaultRules(), Inconclusive, "names no metric", 0, 0},
		{"two kinds", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Greater: &experiments.Greater{A: "a=1", B: "b=1"}}, DefaultRules(), Inconclusive, "exactly one", 0, 0},
		{"bad where", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Where: "model.core"}, DefaultRules(), Inconclusive, "invalid where", 0, 0},
		{"bad at", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", At: -1}, DefaultRules(), Inconclusive, "invalid at", 0, 0},
		{"missing metric", loopsGrid(loops4, both, seeds3, rising), experiments.Claim{Metric: "pass@2", IncreasesWith: "train.loops"}, DefaultRules(), Inconclusive, "0 usable runs", 2, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.rules.Check(tt.claim, tt.data)
			if v.Outcome != tt.want || !strings.Contains(v.Reason, tt.reason) {
				t.Fatalf("outcome=%q reason=%q, want %q with %q", v.Outcome, v.Reason, tt.want, tt.reason)
			}
			if len(v.Tests) != tt.tests || len(v.Excluded) != tt.excl {
				t.Fatalf("%d tests, %d exclusions (%v), want %d and %d", len(v.Tests), len(v.Excluded), v.Excluded, tt.tests, tt.excl)
			}
		})
	}
}

func TestCheckNumbers(t *testing.T) {
	// The reproduced trend reports the first → last effect, paired on seeds:
	// every seed gains 0.24 ± noise from 1 to 8 loops.
	v := Check(experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Where: "model.core=hrm"}, loopsGrid(loops4, both, seeds5, rising))
	if len(v.Tests) != 1 {
		t.Fatalf("%d tests, want 1", len(v.Tests))
	}
	got := v.Tests[0]
	if !got.Effect.Paired || got.Effect.N != 5 || !near(got.Effect.Diff, 0.24, 0.03) || !(got.Effect.Lo > 0) {
		t.Fatalf("effect=%+v, want paired n=5 diff≈0.24 with CI above 0", got.Effect)
	}
	if len(got.Groups) != 4 || got.Groups[0].Label != "train.loops=1" || got.Groups[3].Summary.N != 5 {
		t.Fatalf("groups=%+v, want 4 levels from train.loops=1 with 5 runs each", got.Groups)
	}
	if !(got.P < 0.001) {
		t.Fatalf("p=%v, want < 0.001 for a near-perfect rank order of 20 runs", got.P)
	}
	if !strings.Contains(v.Claim.String(), "exact_accuracy increases with train.loops at final eval where model.core=hrm") {
		t.Fatalf("claim text %q", v.Claim.String())
	}
}

func TestCheckAt(t *testing.T) {
	// Accuracy falls with training loops at one inference loop but rises at
	// as many inference loops as were trained: At decides which is tested.
	var d Data
	for _, l := range loops4 {
		for _, s := range seeds3 {
			d.Runs = append(d.Runs, Run{
				ID: fmt.Sprintf("l%d-s%d", l, s), Status: StatusDone,
				Config: runConfig("", l, 8, s),
				Evals: map[string]map[int]float64{"exact_accuracy": {
					1: 0.5 - 0.05*float64(l) + noise(s, l, 0.01),
					2: 0.3 + 0.05*float64(l) + noise(s, l, 0.01),
					4: 0.3 + 0.05*float64(l) + noise(s, l, 0.01),
					8: 0.3 + 0.05*float64(l) + noise(s, l, 0.01),
				}},
			})
		}
	}
	tests := []struct {
		at         int
		trainLoops bool
		want       Outcome
	}{
		{1, false, NotReproduced},
		{0, true, Reproduced},
		{0, false, Reproduced},
		{3, false, Inconclusive},
	}
	for _, tt := range tests {
		c := experiments.Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", At: tt.at, AtTrainLoops: tt.trainLoops}
		if v := Check(c, d); v.Outcome != tt.want {
			t.Fatalf("at %s: outcome %q (%s), want %q", c.AtText(), v.Outcome, v.Reason, tt.want)
		}
	}
}

func TestCheckEvalTrendFallsInOneStratum(t *testing.T) {
	// One training-loop count whose accuracy falls with inference loops
	// (the 1-loop model in issue 8's trial) makes the claim not reproduced
	// even though the other strata rise.
	d := loopsGrid(loops4, []string{"hrm"}, seeds3, rising)
	for i, r := range d.Runs {
		if r.Config.Train.Loops == 1 {
			d.Runs[i].Evals = map[string]map[int]float64{"exact_accuracy": {1: 0.45, 2: 0.3, 3: 0.1, 4: noise(r.Config.Seed, 1, 0.01)}}
		}
	}
	v := Check(evalUp, d)
	if v.Outcome != NotReproduced || !strings.HasPrefix(v.Reason, "train.loops=1: ρ = -1.00") {
		t.Fatalf("outcome=%q reason=%q, want not reproduced naming train.loops=1", v.Outcome, v.Reason)
	}
}

func TestCheckProportionIntervals(t *testing.T) {
	// Proportions get the Wilson score interval, which stays in [0, 1],
	// for the per-level summaries and ([−1, 1]) for the effect.
	d := loopsGrid(loops4, []string{"hrm"}, seeds3, rising)
	for i := range d.Runs {
		d.Runs[i].Evals["pass@2_strict"] = d.Runs[i].Evals["exact_accuracy"]
	}
	v := Check(experiments.Claim{Metric: "pass@2_strict", IncreasesWith: "train.loops"}, d)
	if v.Outcome != Reproduced {
		t.Fatalf("outcome %q (%s), want reproduced", v.Outcome, v.Reason)
	}
	for _, g := range v.Tests[0].Groups {
		if g.Summary.Method != "wilson" || g.Summary.Lo < 0 || g.Summary.Hi > 1 || !(g.Summary.Lo <= g.Summary.Mean && g.Summary.Mean <= g.Summary.Hi) {
			t.Fatalf("%s: %+v, want a Wilson interval around the mean inside [0, 1]", g.Label, g.Summary)
		}
	}
	if e := v.Tests[0].Effect; e.Level != 0.9 || e.Lo < -1 || e.Hi > 1 || !(e.Lo < e.Diff && e.Diff < e.Hi) {
		t.Fatalf("effect %+v, want a 90%% interval around the difference inside [−1, 1]", *e)
	}
	w := Check(within("model.core=hrm", "model.core=transformer", 0.05), loopsGrid(loops4, both, seeds3, rising))
	for _, g := range w.Tests[0].Groups[2:] {
		if g.Summary.Method != "wilson" || g.Summary.Lo < -1 || g.Summary.Hi > 1 {
			t.Fatalf("%s: %+v, want a Wilson interval of the differences inside [−1, 1]", g.Label, g.Summary)
		}
	}
}

const deepTrainTOML = `
name = "deep-train"
seeds = [1, 2, 3]

[task]
name = "sudoku"
size = 4

[eval]
loops = 4

[sweep]
"train.loops" = [2, 4, 8]

[[expect]]
metric = "exact_accuracy"
at = "train.loops"
increases_with = "train.loops"

[[expect]]
metric = "exact_accuracy"
at = "train.loops"
greater = {a = "train.loops=8", b = "train.loops=2", margin = 0.1}
`

func TestCheckTrainLoopsAboveEvalLoops(t *testing.T) {
	// The grid trains with up to 8 loops but evaluates 4, and validates: at
	// = "train.loops" reads each run at min(train.loops, eval.loops), so
	// the 8-loop runs are read at loop 4, never at a loop not evaluated.
	g, specs := MustLoadGridFile(t, t.TempDir(), deepTrainTOML)
	acc := func(trainLoops, evalLoop int, seed int64) float64 {
		return 0.2 + 0.1*float64(evalLoop) + 0.05*math.Log2(float64(trainLoops)) + noise(seed, 10*trainLoops+evalLoop, 0.01)
	}
	d := Data{Grid: gridInfo(g), Claims: g.Expect}
	for _, s := range specs {
		curve := map[int]float64{}
		for e := 1; e <= s.Eval.Loops; e++ {
			curve[e] = acc(s.Train.Loops, e, s.Seed)
		}
		d.Runs = append(d.Runs, Run{ID: s.ID, Config: s, Status: StatusDone, Evals: map[string]map[int]float64{"exact_accuracy": curve}})
	}
	var at8 []float64
	for _, seed := range g.Seeds {
		at8 = append(at8, acc(8, 4, seed))
	}
	tests := []struct {
		claim experiments.Claim
		group string // the group holding the 8-loop runs
	}{
		{g.Expect[0], "train.loops=8"},
		{g.Expect[1], "A: train.loops=8"},
	}
	for _, tt := range tests {
		v := Check(tt.claim, d)
		if v.Outcome != Reproduced || len(v.Excluded) != 0 {
			t.Fatalf("%s: outcome %q (%s), %d exclusions %v, want reproduced with none", tt.claim, v.Outcome, v.Reason, len(v.Excluded), v.Excluded)
		}
		var got *Group
		for i, gr := range v.Tests[0].Groups {
			if gr.Label == tt.group {
				got = &v.Tests[0].Groups[i]
			}
		}
		if got == nil || got.Summary.N != 3 || !near(got.Summary.Mean, mean(at8), 1e-12) {
			t.Fatalf("%s: group %s=%+v, want the 3 runs' values at eval.loops=4 (mean %v)", tt.claim, tt.group, got, mean(at8))
		}
	}
}
