package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/models"
	"outerloop/results"
)

// faultyRecorder raises a real libtorch error (a matmul of mismatched
// shapes, on the run's own goroutine) when its run reports step failAt,
// in the middle of training with the model, optimiser and carry alive.
type faultyRecorder struct {
	harness.Recorder
	failAt int
}

func (r faultyRecorder) Progress(step, total int, loss float64) {
	r.Recorder.Progress(step, total, loss)
	if step == r.failAt {
		a := ts.MustOnes([]int64{2, 3}, gotch.Float, gotch.CPU)
		defer a.MustDrop()
		a.MustMatmul(a, false).MustDrop() // (2,3)·(2,3): libtorch throws
	}
}

// faultyTrainer trains for real and fails runs of odd seeds halfway.
type faultyTrainer struct{}

func (faultyTrainer) Run(ctx context.Context, run experiments.RunSpec, env harness.Env) error {
	rec := env.Recorder
	if run.Seed%2 == 1 {
		rec = faultyRecorder{Recorder: rec, failAt: run.Train.Steps / 2}
	}
	env.Threads, env.Recorder = 1, rec
	return Run(ctx, run, env)
}

func (faultyTrainer) Info() map[string]string { return Info() }

// rssSink samples the process's RSS each time a run ends.
type rssSink struct {
	mu  sync.Mutex
	rss []int64
}

func (o *rssSink) Observe(e harness.Event) {
	if e.Kind == harness.EventFinished {
		o.mu.Lock()
		o.rss = append(o.rss, models.RSSBytes())
		o.mu.Unlock()
	}
}

// TestFailedRunsLeakNothing trains a grid of 20 small runs in which every
// other run fails with a libtorch exception mid-training: the process goes
// on, each failure is recorded with libtorch's message, and the memory the
// failed runs held comes back (RSS after the last run close to RSS after
// the first).
func TestFailedRunsLeakNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 20 runs")
	}
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.toml")
	src := `name = "leak"
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
[task]
name = "sudoku"
size = 4
train = 300
test = 64
[model]
core = "transformer"
hidden = 64
heads = 4
layers = 2
[train]
steps = 30
batch = 64
log_every = 10
[eval]
loops = 2
`
	if err := os.WriteFile(grid, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := experiments.Load(grid, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	store, err := results.Open(context.Background(), filepath.Join(dir, "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	obs := &rssSink{}
	sched := &harness.Scheduler{Store: store, Trainer: faultyTrainer{}, Jobs: 1, Threads: 1, Events: obs,
		RunsDir: filepath.Join(dir, "runs"), CacheDir: filepath.Join(dir, "cache")}
	sum, err := sched.Run(context.Background(), g, runs)
	first, last := obs.rss[0], obs.rss[len(obs.rss)-1]
	t.Logf("RSS after run 1: %.1f MiB, after run 20: %.1f MiB (%+.1f%%); all: %s",
		mib(first), mib(last), 100*float64(last-first)/float64(first), formatMiB(obs.rss))
	if !errors.Is(err, harness.ErrRunsFailed) {
		t.Fatalf("Run: %v, want the failed runs reported", err)
	}
	if sum.Final[results.Done] != 10 || sum.Final[results.Failed] != 10 {
		t.Fatalf("final statuses %v, want 10 done and 10 failed", sum.Final)
	}
	for _, f := range sum.Failures {
		if !strings.HasPrefix(f.Err, "libtorch: ") || strings.Contains(f.Err, "\n") {
			t.Fatalf("failure %q: want libtorch's first line", f.Err)
		}
	}
	// The measured growth is a few percent (the closing note of the issue
	// has the numbers); the bound is generous because RSS moves with the
	// Go heap and the machine's load.
	if float64(last) > 1.25*float64(first) {
		t.Fatalf("RSS grew from %.1f MiB after the first run to %.1f MiB after the last: failed runs leak", mib(first), mib(last))
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func formatMiB(xs []int64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", mib(x))
	}
	return strings.Join(parts, " ")
}
