package reports

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"outerloop/experiments"
)

// mazeFixture is issue 18's 9×9 maze grid: a transformer trained with 1 or
// 4 loops, three seeds, exact accuracy read at eval.loops = train.loops.
// The third 4-loop seed never learned.
func mazeFixture() Data {
	return byHand(map[int][]float64{1: {0.035, 0.043, 0.004}, 4: {0.285, 0.172, 0.012}})
}

// byHand makes done transformer runs with exact accuracy acc[loops][seed−1]
// at eval.loops = train.loops.
func byHand(acc map[int][]float64) Data {
	d := Data{Claims: []experiments.Claim{mazeClaim}}
	for _, loops := range sortedKeys(acc) {
		for i, y := range acc[loops] {
			seed := int64(i + 1)
			d.Runs = append(d.Runs, Run{
				ID:     fmt.Sprintf("maze-l%d-s%d", loops, seed),
				Config: runConfig("transformer", loops, 4, seed),
				Status: StatusDone,
				Evals:  map[string]map[int]float64{"exact_accuracy": {loops: y}},
			})
		}
	}
	return d
}

var mazeClaim = experiments.Claim{Metric: "exact_accuracy", AtTrainLoops: true, IncreasesWith: "train.loops"}

func TestMazeVerdict(t *testing.T) {
	v := Check(mazeClaim, mazeFixture())
	if v.Outcome != Inconclusive || !strings.Contains(v.Reason, "no significant rise, nor evidence against one") ||
		!strings.Contains(v.Reason, "about 8 seeds per level") {
		t.Fatalf("outcome=%q reason=%q, want inconclusive asking for about 8 seeds per level", v.Outcome, v.Reason)
	}
	got := v.Tests[0]
	// The numbers: ρ = 0.49, p = 0.2, and 3 against 3 seeds cannot
	// go below p = 0.05.
	if !near(got.Value, 0.49, 0.005) || !near(got.P, 0.2, 1e-9) || !near(got.Power.MinP, 0.05, 1e-12) || got.Power.Seeds != 8 {
		t.Fatalf("ρ=%v p=%v power=%+v, want ρ 0.49, p 0.2, attainable p 0.05 and 8 seeds", got.Value, got.P, *got.Power)
	}
	if s := got.Power.String(); !strings.Contains(s, "smallest attainable p = 0.05 (only a perfect ordering of every run reaches α = 0.05") {
		t.Fatalf("power=%q, want it to say a single seed decides", s)
	}
	if len(v.Outliers) != 1 || v.Outliers[0].RunID != "maze-l4-s3" || !near(v.Outliers[0].SiblingMedian, 0.2285, 1e-9) {
		t.Fatalf("outliers=%+v, want the third 4-loop seed against a sibling median of 0.2285", v.Outliers)
	}
	w := v.WithoutOutliers
	if w == nil || w.Outcome != Inconclusive || !strings.Contains(w.Reason, "train.loops=4 has 2 usable runs of 3 (need 3)") || w.WithoutOutliers != nil {
		t.Fatalf("without outliers: %+v, want inconclusive for a level left with 2 seeds", w)
	}
	if len(w.Excluded) != 1 || !strings.Contains(w.Excluded[0].Reason, "did not learn") {
		t.Fatalf("without outliers, excluded=%v, want the outlier listed as left out", w.Excluded)
	}
}

// twoPointCurves cuts every run's inference-loop curve to loops 1 and 2:
// each run's ordering has chance 1/2, so three runs reach p = 1/8 at best.
func twoPointCurves(d Data) Data {
	for i, r := range d.Runs {
		c := r.Evals["exact_accuracy"]
		d.Runs[i].Evals = map[string]map[int]float64{"exact_accuracy": {1: c[1], 2: c[2]}}
		d.Runs[i].Config.Eval.Loops = 2
	}
	return d
}

func TestAttainableRuleSkipsTheTest(t *testing.T) {
	short := Rules{Alpha: 0.05, MinSeeds: 2, MinEffect: 0.05, Power: 0.8, Permutations: 1000, Seed: 1}
	v := short.Check(trainUp, loopsGrid([]int{1, 2}, []string{"hrm"}, seeds2, rising))
	if got := v.Tests[0]; !math.IsNaN(got.P) || !near(got.Power.MinP, 1.0/6, 1e-12) || got.Effect == nil {
		t.Fatalf("test=%+v, want no p-value, attainable p 1/6 and the effect still shown", got)
	}
}

func TestPowerSeeds(t *testing.T) {
	r := DefaultRules()
	tests := []struct {
		name         string
		effect, sd   float64
		paired       bool
		floor, seeds int
	}{
		// The maze: 2·((1.645 + 0.842)·0.0981/0.129)² = 7.15 with z; with
		// t at 14 df, 2·((1.761 + 0.868)·0.0981/0.129)² = 7.99 ≤ 8.
		{"maze, two groups", 0.129, 0.0981, false, 3, 8},
		// Paired, z gives 3.6; t at 4 df gives 5.46 > 5, at 5 df 4.98 ≤ 6.
		{"maze spread, paired", 0.129, 0.0981, true, 3, 6},
		{"tiny effect stops at the cap", 1e-6, 0.1, false, 3, maxSeeds},
		{"large effect stops at the floor", 0.5, 0.01, false, 3, 3},
		{"wrong direction", -0.1, 0.05, false, 3, 0},
		{"no spread known", 0.1, math.NaN(), false, 3, 0},
	}
	for _, tt := range tests {
		if got := r.newPower(0, tt.effect, tt.sd, tt.paired, "seeds", tt.floor).Seeds; got != tt.seeds {
			t.Fatalf("%s: seeds=%d, want %d", tt.name, got, tt.seeds)
		}
	}
	// At the cap the count is a bound, not an estimate: the text must not
	// read "about 10000".
	if s := r.newPower(0, 1e-6, 0.1, false, "seeds", 3).String(); !strings.Contains(s, "more than 10000 seeds") {
		t.Fatalf("capped power reads %q, want it to say more than the cap", s)
	}
	for levels, want := range map[int]int{1: 0, 2: 3, 3: 2, 4: 1} {
		if got := designSeeds(levels, 0.05); got != want {
			t.Fatalf("designSeeds(%d)=%d, want %d", levels, got, want)
		}
	}
}

func TestOutliers(t *testing.T) {
	r := DefaultRules()
	run := func(seed int64, y float64) sample {
		return sample{run: Run{ID: fmt.Sprint("s", seed), Config: runConfig("hrm", 4, 4, seed)}, y: y, ok: true}
	}
	tests := []struct {
		name   string
		metric string
		ys     []float64
		want   int
	}{
		{"one seed at zero, two learned", "exact_accuracy", []float64{0.01, 0.5, 0.6}, 1},
		{"at the untrained bound", "exact_accuracy", []float64{0.02, 0.1, 0.6}, 1},
		{"siblings did not learn either", "exact_accuracy", []float64{0.004, 0.035, 0.043}, 0},
		{"a single sibling", "exact_accuracy", []float64{0.0, 0.6}, 0},
		{"low but learning", "exact_accuracy", []float64{0.05, 0.5, 0.6}, 0},
		{"two of four did not learn", "exact_accuracy", []float64{0.0, 0.01, 0.5, 0.6}, 2},
		{"token accuracy has no untrained zero", "token_accuracy", []float64{0.01, 0.5, 0.6}, 0},
	}
	for _, tt := range tests {
		var samples []sample
		for i, y := range tt.ys {
			samples = append(samples, run(int64(i+1), y))
		}
		if got := r.outliers(tt.metric, samples, []string{"model.core"}); len(got) != tt.want {
			t.Fatalf("%s: outliers=%v, want %d", tt.name, got, tt.want)
		}
	}
}

func TestHTMLShowsPowerAndOutliers(t *testing.T) {
	b, err := MustBuild(t, mazeFixture()).HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{
		`<span class="badge inconclusive">inconclusive</span> <strong>exact_accuracy increases with train.loops`,
		"no significant rise, nor evidence against one",
		"Power: smallest attainable p = 0.05 (only a perfect ordering of every run reaches α = 0.05: one bad seed decides); about 8 seeds per level would show an effect this size (α = 0.05, 80% power), from the observed effect 0.129 and SD 0.0981 (t-corrected normal approximation, two independent groups with the pooled SD)",
		"run maze-l4- (seed 3, train.loops=4) did not learn: exact_accuracy = 0.012, at the untrained level, while the median of its 2 siblings is 0.228",
		`Without them: <span class="badge inconclusive">inconclusive</span> all runs: train.loops=4 has 2 usable runs of 3 (need 3)`,
		"minimal effect 0.05 unless a claim sets min_effect",
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %q", want)
		}
	}
}
