package train

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/models"
	"outerloop/tasks"
)

func TestStablemaxMatchesDefinition(t *testing.T) {
	// s(2) = 3, s(−1) = 1/2, s(0) = 1; Σ = 4.5.
	logits := ts.MustOfSlice([]float32{2, -1, 0, 2, -1, 0, 2, -1, 0}).MustView([]int64{1, 3, 3}, true)
	defer logits.MustDrop()
	k := newConstants()
	defer k.drop()
	tests := []struct {
		name   string
		labels []int64
		want   float64
	}{
		{"label 0", []int64{0, 0, 0}, -math.Log(3 / 4.5)},
		{"label 1", []int64{1, 1, 1}, -math.Log(0.5 / 4.5)},
		{"mean over labelled cells", []int64{0, 1, tasks.IgnoreLabel}, (-math.Log(3/4.5) - math.Log(0.5/4.5)) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lab := ts.MustOfSlice(tt.labels).MustView([]int64{1, 3}, true)
			defer lab.MustDrop()
			loss := tokenLoss("stablemax", logits, lab, k)
			if got := scalarOf(loss); math.Abs(got-tt.want) > 1e-6 {
				t.Fatalf("stablemax loss = %v, want %v", got, tt.want)
			}
			loss.MustDrop()
		})
	}
	lab := ts.MustOfSlice([]int64{0, 0, 0}).MustView([]int64{1, 3}, true)
	defer lab.MustDrop()
	soft := tokenLoss("softmax", logits, lab, k)
	want := -(2 - math.Log(math.Exp(2)+math.Exp(-1)+1))
	if got := scalarOf(soft); math.Abs(got-want) > 1e-5 {
		t.Fatalf("softmax loss = %v, want %v", got, want)
	}
	soft.MustDrop()
}

func TestHaltTargetIsFullyCorrect(t *testing.T) {
	// Three samples of two cells over two classes: all right; one wrong;
	// wrong only where the label is ignored (counts as right).
	logits := ts.MustOfSlice([]float32{
		5, 0, 0, 5,
		5, 0, 5, 0,
		5, 0, 0, 5,
	}).MustView([]int64{3, 2, 2}, true)
	labels := ts.MustOfSlice([]int64{0, 1, 0, 1, 0, tasks.IgnoreLabel}).MustView([]int64{3, 2}, true)
	defer logits.MustDrop()
	defer labels.MustDrop()
	k := newConstants()
	defer k.drop()
	seq, right, total := correctness(logits, labels, k)
	defer seq.MustDrop()
	got := seq.MustTotype(gotch.Int64, false).Int64Values(true)
	if want := []int64{1, 0, 1}; !slices.Equal(got, want) {
		t.Fatalf("fully correct = %v, want %v", got, want)
	}
	if right != 4 || total != 5 {
		t.Fatalf("right/total tokens = %v/%v, want 4/5", right, total)
	}
}

func TestExplorationMinimum(t *testing.T) {
	for _, tt := range []struct {
		p        float64
		min, max int
	}{{0, 1, 1}, {1, 2, 5}} {
		r := smallRun(func(r *experiments.RunSpec) { r.Train.Exploration, r.Train.Loops = tt.p, 5 })
		e := &engine{run: r}
		e.rng, e.pcg = newRNG(1)
		seen := map[int]bool{}
		for i := 0; i < 500; i++ {
			m := e.explorationMinimum()
			if m < tt.min || m > tt.max {
				t.Fatalf("p=%v: minimum %d outside [%d, %d]", tt.p, m, tt.min, tt.max)
			}
			seen[m] = true
		}
		if len(seen) != tt.max-tt.min+1 {
			t.Fatalf("p=%v: minimums seen %v, want every value in [%d, %d]", tt.p, seen, tt.min, tt.max)
		}
	}
}

// engineFor builds a run's engine directly, for tests that step it.
func engineFor(t testing.TB, r experiments.RunSpec, cacheDir ...string) *engine {
	t.Helper()
	lockThread()
	data, err := tasks.Build(r.Task, strings.Join(cacheDir, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.New(r.Model, models.Shape{Vocab: data.Vocab, SeqLen: data.SeqLen, PuzzleIDs: data.NumPuzzleIDs}, models.Placement{Device: gotch.CPU, BF16: r.Train.Precision == experiments.PrecisionBF16}, r.Seed)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(r, m, data, newMemRecorder())
	t.Cleanup(func() { e.drop(); m.Params.Drop() })
	return e
}

func TestStepDetachesCarryAndLeaksNothing(t *testing.T) {
	for _, halting := range []experiments.Halting{experiments.HaltingBCE, experiments.HaltingQ} {
		for _, sched := range experiments.Schedule("").Values() {
			t.Run(string(halting)+"/"+string(sched), func(t *testing.T) {
				e := engineFor(t, smallRun(func(r *experiments.RunSpec) {
					r.Train.Halting, r.Train.Schedule, r.Train.EMA = halting, sched, true
				}))
				e.trainStep(1e-3)
				before := models.LiveTensors()
				for i := 0; i < 6; i++ {
					e.trainStep(1e-3)
					for j, s := range e.carry.States {
						if s.MustRequiresGrad() {
							t.Fatalf("step %d: carried state %d is attached to the graph", i, j)
						}
					}
				}
				if after := models.LiveTensors(); after > before {
					t.Fatalf("live tensors %d → %d over 6 steps, want no growth", before, after)
				}
			})
		}
	}
}

func TestContinueTargetHasNoGradient(t *testing.T) {
	e := engineFor(t, smallRun(func(r *experiments.RunSpec) { r.Train.Halting = "q" }))
	e.refill()
	s := e.slots
	tok := hostTensor(widen(s.inputs), []int64{int64(s.B), int64(s.L)}, gotch.CPU)
	defer tok.MustDrop()
	next, out := e.model.Segment(e.carry, tok, nil, e.run.Train.Gradient)
	defer next.Drop()
	defer out.Drop()
	target := e.continueTarget(next, tok, nil)
	defer target.MustDrop()
	if target.MustRequiresGrad() {
		t.Fatal("the Q-continue target is attached to the graph; it must come from a no-grad pass")
	}
	for _, v := range target.Float64Values() {
		if v <= 0 || v >= 1 {
			t.Fatalf("target %v is not a sigmoid output", v)
		}
	}
}

func TestEvaluationUsesEMAWeights(t *testing.T) {
	e := engineFor(t, smallRun(func(r *experiments.RunSpec) { r.Train.EMA, r.Train.EMARate = true, 0.5 }))
	for i := 0; i < 5; i++ {
		e.trainStep(3e-3)
	}
	obs := newMemRecorder()
	e.obs = obs
	live := Evaluate(e.model, e.data, e.data.Test, e.run.Eval, e.run.Train.Halting, e.run.Train.Gradient)
	e.ema.swap(e.params)
	averaged := Evaluate(e.model, e.data, e.data.Test, e.run.Eval, e.run.Train.Halting, e.run.Train.Gradient)
	e.ema.swap(e.params)
	e.evaluate()
	got := obs.evals["halt_probability"][1]
	if got != averaged[0]["halt_probability"] {
		t.Fatalf("recorded halt probability %v, want the EMA weights' %v", got, averaged[0]["halt_probability"])
	}
	if got == live[0]["halt_probability"] {
		t.Fatalf("EMA and live weights give the same %v: the test cannot tell them apart", got)
	}
	again := Evaluate(e.model, e.data, e.data.Test, e.run.Eval, e.run.Train.Halting, e.run.Train.Gradient)
	if again[0]["halt_probability"] != live[0]["halt_probability"] {
		t.Fatal("evaluation did not restore the live weights")
	}
}

// stopAt cancels a run once it reports a given step.
type stopAt struct {
	*memRecorder
	step   int
	cancel context.CancelFunc
}

func (s stopAt) Progress(step, total int, loss float64) {
	s.memRecorder.Progress(step, total, loss)
	if step == s.step {
		s.cancel()
	}
}

func TestResumeContinuesWithIdenticalLosses(t *testing.T) {
	for _, sched := range experiments.Schedule("").Values() {
		t.Run(string(sched), func(t *testing.T) {
			r := smallRun(func(r *experiments.RunSpec) {
				r.Train.Schedule, r.Train.Steps, r.Train.EMA, r.Train.Halting = sched, 16, true, "q"
				r.Model.PuzzleEmbLen = 1
			})
			whole := mustRun(t, r, t.TempDir())

			lockThread()
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			first := stopAt{newMemRecorder(), 7, cancel}
			err := Run(ctx, r, harness.Env{Threads: 1, Dir: dir, Recorder: first})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run returned %v, want context.Canceled", err)
			}
			rest := mustRun(t, r, dir)
			resumed := append(first.losses, rest.losses...)
			if !slices.Equal(resumed, whole.losses) {
				t.Fatalf("losses after resume differ:\n got %v\nwant %v", resumed, whole.losses)
			}
		})
	}
}

func TestLearnsSudoku4(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for ~a minute")
	}
	r := smallRun(func(r *experiments.RunSpec) {
		*r = experiments.DefaultRunSpec()
		r.Model.Core = "transformer"
		r.Task.Train, r.Task.Test = 3000, 256
		r.Train.Steps, r.Train.Loops, r.Train.LogEvery = 600, 2, 100
		r.Train.LR, r.Train.Halting = 1e-3, "off"
		r.Eval.Loops = 4
	})
	obs := mustRun(t, r, t.TempDir())
	acc := obs.evals["exact_accuracy"][2]
	t.Logf("exact accuracy after %d steps: %v (per loop %v)", r.Train.Steps, acc, obs.evals["exact_accuracy"])
	// An untrained model fills the ~12 blanks of a 4×4 grid at chance:
	// (1/4)^12 exact.
	if acc < 0.2 {
		t.Fatalf("exact accuracy %v after %d steps, want ≥ 0.2", acc, r.Train.Steps)
	}
}

// TestEveryCoreLearns trains each core briefly on 4×4 Sudoku and checks it
// gets well past what the same model does untrained.
func TestEveryCoreLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four cores")
	}
	for _, core := range experiments.Core("").Values() {
		t.Run(string(core), func(t *testing.T) {
			r := smallRun(func(r *experiments.RunSpec) {
				*r = experiments.DefaultRunSpec()
				r.Model.Core, r.Model.HLayers, r.Model.LLayers, r.Model.Depth = core, 1, 1, 2
				r.Model.ACT = core == experiments.CoreUT
				r.Task.Test = 256
				r.Train.Steps, r.Train.Loops, r.Train.LR, r.Train.LogEvery = 250, 2, 1e-3, 50
				r.Eval.Loops = 2
			})
			e := engineFor(t, r)
			before := Evaluate(e.model, e.data, e.data.Test, r.Eval, r.Train.Halting, r.Train.Gradient)[1]["token_accuracy"]
			obs := mustRun(t, r, t.TempDir())
			after := obs.evals["token_accuracy"][2]
			t.Logf("%s: test token accuracy %.3f untrained → %.3f after %d steps", core, before, after, r.Train.Steps)
			if after < before+0.2 || after < 0.5 {
				t.Fatalf("token accuracy %.3f → %.3f, want ≥ 0.5 and 0.2 above untrained", before, after)
			}
		})
	}
}

// TestBF16Trains trains a small transformer with train.precision = "bf16"
// (matmuls and attention in bfloat16; parameters, norms, loss and optimiser
// float32) and checks the loss falls. It is short: bf16 kernels are slow on
// CPU (docs/models.md, "Precision").
func TestBF16Trains(t *testing.T) {
	r := smallRun(func(r *experiments.RunSpec) {
		r.Model.Core = experiments.CoreTransformer
		r.Train.Steps, r.Train.LR, r.Train.LogEvery = 40, 3e-3, 10
		r.Train.Precision = experiments.PrecisionBF16
	})
	obs := mustRun(t, r, t.TempDir())
	first, last := obs.metrics["loss"][10], obs.metrics["loss"][40]
	t.Logf("bf16 loss %.4f at step 10 → %.4f at step 40", first, last)
	if math.IsNaN(last) || !(last < first) {
		t.Fatalf("bf16 loss %.4f at step 10 → %.4f at step 40, want it to fall", first, last)
	}
}

func TestStablemaxGradientIsFiniteAtOne(t *testing.T) {
	lockThread()
	k := newConstants()
	defer k.drop()
	// A logit of exactly 1 made the unselected 1/(1 − x) branch infinite.
	logits := ts.MustOfSlice([]float32{1, -1, 0, 2}).MustView([]int64{1, 1, 4}, true)
	logits.MustRequiresGrad_(true)
	defer logits.MustDrop()
	labels := ts.MustOfSlice([]int64{3}).MustView([]int64{1, 1}, true)
	defer labels.MustDrop()
	loss := tokenLoss("stablemax", logits, labels, k)
	loss.MustBackward()
	loss.MustDrop()
	g := logits.MustGrad(false)
	defer g.MustDrop()
	for i, v := range g.Float64Values() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("gradient[%d] = %v at logits [1 -1 0 2]", i, v)
		}
	}
}
