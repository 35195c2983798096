package train

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"outerloop/experiments"
	"outerloop/harness"
)

// poolLog records every pooled metric of every evaluation, and cancels the
// run once it reports step stop (0: never).
type poolLog struct {
	*memRecorder
	pooled []string // "step loops name value"
	stop   int
	cancel context.CancelFunc
}

func (p *poolLog) Eval(step, loops int, name string, v float64) {
	p.memRecorder.Eval(step, loops, name, v)
	if strings.HasSuffix(name, "_pooled") {
		p.pooled = append(p.pooled, fmt.Sprintf("%d %d %s %v", step, loops, name, v))
	}
}

func (p *poolLog) Progress(step, total int, loss float64) {
	p.memRecorder.Progress(step, total, loss)
	if step == p.stop {
		p.cancel()
	}
}

// TestPooledVotesSurviveResume: eval.pool_votes pools the votes of every
// evaluation of a run, at the last inference loop only, and a run
// interrupted between two evaluations reports the same pooled metrics as
// one that was not.
func TestPooledVotesSurviveResume(t *testing.T) {
	r := smallRun(func(r *experiments.RunSpec) {
		r.Task = experiments.DefaultTaskConfig()
		r.Task.Name, r.Task.Size, r.Task.Train, r.Task.Test, r.Task.Augment = "arc-lite", 6, 8, 4, 3
		r.Model.PuzzleEmbLen = 1
		r.Train.Steps, r.Train.EvalEvery = 12, 4
		r.Eval.PoolVotes = true
	})
	run := func(dir string, stop int) (*poolLog, error) {
		lockThread()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		log := &poolLog{memRecorder: newMemRecorder(), stop: stop, cancel: cancel}
		err := Run(ctx, r, harness.Env{Threads: 1, Dir: dir, Recorder: log})
		return log, err
	}
	whole, err := run(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Three evaluations of 4 variants per test input: 12 votes, so the
	// pool reports pass@10, which one evaluation's 4 votes cannot.
	if _, ok := whole.evals["pass@10_partial_pooled"][r.Eval.Loops]; !ok {
		t.Fatalf("last evaluation has no pass@10_partial_pooled: %v", whole.pooled)
	}
	if _, ok := whole.evals["pass@2_partial_pooled"][r.Eval.Loops-1]; ok {
		t.Fatal("pooled metrics recorded before the last inference loop")
	}
	dir := t.TempDir()
	first, err := run(dir, 6)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
	rest, err := run(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := append(first.pooled, rest.pooled...)
	slices.Sort(got)
	want := slices.Sorted(slices.Values(whole.pooled))
	if !slices.Equal(got, want) {
		t.Fatalf("pooled metrics after resume differ:\n got %v\nwant %v", got, want)
	}
}
