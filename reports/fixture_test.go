package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"outerloop/experiments"
)

// outerLoopFixture is a hand-made outer-loop grid: train.loops {1, 2, 4, 8}
// × model.core {hrm, transformer} × seeds {1, 2, 3}, evaluated at inference
// loops 1..8, with learning curves, halting histograms and FLOPs. The run
// hrm/8 loops/seed 3 diverged (NaN loss) and failed; transformer/1/seed 3 is
// still pending.
func outerLoopFixture() Data {
	d := Data{
		Grid: GridInfo{
			Name:        "outer-loop-fixture",
			Title:       "Outer refinement loops drive accuracy",
			Description: "Hand-made data shaped like the ARC Prize outer-loop ablation.",
			Path:        "ablations/outer-loop.toml",
		},
		Claims: []experiments.Claim{
			{Metric: "exact_accuracy", IncreasesWith: "train.loops", Description: "More training loops, higher accuracy (ARC Prize finding #2)."},
			{Metric: "exact_accuracy", Within: &experiments.Within{A: "model.core=hrm", B: "model.core=transformer", Delta: 0.05}, Description: "The hierarchy adds little (ARC Prize finding #1)."},
			{Metric: "exact_accuracy", IncreasesWith: "eval.loops", Where: "train.loops=4"},
		},
	}
	for _, core := range []string{"hrm", "transformer"} {
		for _, loops := range []int{1, 2, 4, 8} {
			for seed := int64(1); seed <= 3; seed++ {
				d.Runs = append(d.Runs, fixtureRun(core, loops, seed))
			}
		}
	}
	var ids []string
	for _, r := range d.Runs {
		ids = append(ids, r.ID)
	}
	d.Provenance = []Provenance{{
		Commit: "0123456789abcdef0123456789abcdef01234567", Dirty: true, GoVersion: "go1.26.8",
		Torch: "2.1.0", TorchABI: "pre-cxx11", Host: "bench-1", CPU: "AMD EPYC 7B13", Threads: 1, RunIDs: ids,
	}}
	return d
}

func fixtureRun(core string, loops int, seed int64) Run {
	peak := 0.3 + 0.15*math.Log2(float64(loops))
	if core == "transformer" {
		peak -= 0.03
	}
	cfg := runConfig(core, loops, 8, seed)
	cfg.Train.Steps = 500
	r := Run{
		ID:     fmt.Sprintf("%c%02d%02dcafe0123", core[0], loops, seed),
		Config: cfg,
		Status: StatusDone, WallSeconds: 60 * float64(loops) * (1 + noise(seed, loops, 0.1)),
		TrainFLOPs: 2e12 * float64(loops) * map[string]float64{"hrm": 1.2, "transformer": 1}[core],
		Curves:     map[string][]Point{},
		Evals:      map[string]map[int]float64{"exact_accuracy": {}},
	}
	for e := 1; e <= 8; e++ {
		// Accuracy climbs until the trained loop count and sags after it.
		y := peak * math.Min(1, float64(e)/float64(loops))
		if e > loops {
			y -= 0.04 * math.Log2(float64(e)/float64(loops))
		}
		r.Evals["exact_accuracy"][e] = clamp01(y + noise(seed, loops*10+e+len(core), 0.02))
	}
	for step := 0; step <= 500; step += 50 {
		progress := float64(step) / 500
		r.Curves["loss"] = append(r.Curves["loss"], Point{Step: step, Value: 2.5*math.Exp(-3*progress) + 0.1 + noise(seed, step+loops, 0.05)})
		r.Curves["exact_accuracy"] = append(r.Curves["exact_accuracy"], Point{Step: step, Value: clamp01(peak*progress + noise(seed, step+7*loops, 0.02))})
	}
	for s := 1; s <= loops; s++ {
		r.HaltSegments = append(r.HaltSegments, 10*s+int(seed))
	}
	switch {
	case core == "hrm" && loops == 8 && seed == 3:
		r.Status, r.Error = "failed", "train: loss is NaN at step 350"
		r.Evals = nil
		r.Curves["loss"] = append(r.Curves["loss"][:7], Point{Step: 350, Value: math.NaN()})
		r.Curves["exact_accuracy"] = r.Curves["exact_accuracy"][:7]
	case core == "transformer" && loops == 1 && seed == 3:
		r.Status, r.Evals, r.Curves, r.HaltSegments, r.WallSeconds, r.TrainFLOPs = "pending", nil, nil, nil, 0, 0
	}
	return r
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

// runConfig is the typed config of a hand-made run: the given core, loops
// and seed, every other key zero. model.core is set through JSON so that
// fixtures need not name the Go type the config gives it.
func runConfig(core string, trainLoops, evalLoops int, seed int64) experiments.RunSpec {
	var cfg experiments.RunSpec
	if err := json.Unmarshal([]byte(`{"model":{"core":`+strconv.Quote(core)+`}}`), &cfg); err != nil {
		panic(fmt.Sprintf("model.core %q: %v", core, err))
	}
	cfg.Seed, cfg.Train.Loops, cfg.Eval.Loops = seed, trainLoops, evalLoops
	return cfg
}
