package train

import (
	"context"
	"runtime"
	"sort"
	"testing"

	"outerloop/experiments"
	"outerloop/harness"
)

// lockThread pins the calling test goroutine to its OS thread: libtorch's
// grad mode is thread-local, and models.NoGrad must restore it on the
// thread it changed. A goroutine that exits locked takes its thread with it.
func lockThread() { runtime.LockOSThread() }

// memRecorder keeps everything a run reports, for assertions.
type memRecorder struct {
	metrics     map[string]map[int]float64 // name → step → value
	evals       map[string]map[int]float64 // name → loops → value (last eval)
	evalSteps   []int
	checkpoints []int
	losses      []float64 // per step, from Progress
}

func newMemRecorder() *memRecorder {
	return &memRecorder{metrics: map[string]map[int]float64{}, evals: map[string]map[int]float64{}}
}

func (o *memRecorder) Metric(step int, name string, v float64) {
	if o.metrics[name] == nil {
		o.metrics[name] = map[int]float64{}
	}
	o.metrics[name][step] = v
}

func (o *memRecorder) Eval(step, loops int, name string, v float64) {
	if len(o.evalSteps) == 0 || o.evalSteps[len(o.evalSteps)-1] != step {
		o.evalSteps = append(o.evalSteps, step)
		o.evals = map[string]map[int]float64{}
	}
	if o.evals[name] == nil {
		o.evals[name] = map[int]float64{}
	}
	o.evals[name][loops] = v
}

func (o *memRecorder) Artifact(kind, path string) error { return nil }
func (o *memRecorder) Checkpoint(step int)              { o.checkpoints = append(o.checkpoints, step) }
func (o *memRecorder) Flush()                           {}
func (o *memRecorder) Progress(step, total int, loss float64) {
	o.losses = append(o.losses, loss)
}

// last returns the value of a metric at its last logged step.
func (o *memRecorder) last(name string) float64 {
	steps := make([]int, 0, len(o.metrics[name]))
	for s := range o.metrics[name] {
		steps = append(steps, s)
	}
	sort.Ints(steps)
	if len(steps) == 0 {
		return 0
	}
	return o.metrics[name][steps[len(steps)-1]]
}

// smallRun is a 4×4 Sudoku TRM run that trains in seconds.
func smallRun(mod func(*experiments.RunSpec)) experiments.RunSpec {
	r := experiments.DefaultRunSpec()
	r.Task.Train, r.Task.Test = 300, 64
	r.Model.Hidden, r.Model.Heads, r.Model.Layers = 32, 2, 1
	r.Model.HCycles, r.Model.LCycles = 2, 1
	r.Train.Steps, r.Train.Batch, r.Train.Loops = 20, 16, 3
	r.Train.Warmup, r.Train.LogEvery = 5, 5
	r.Eval.Loops, r.Eval.Batch = 3, 64
	if mod != nil {
		mod(&r)
	}
	id, err := r.Hash()
	if err != nil {
		panic(err)
	}
	r.ID = id
	return r
}

func mustRun(t testing.TB, r experiments.RunSpec, dir string) *memRecorder {
	t.Helper()
	lockThread()
	obs := newMemRecorder()
	if err := Run(context.Background(), r, harness.Env{Threads: 1, Dir: dir, Recorder: obs}); err != nil {
		t.Fatal(err)
	}
	return obs
}
