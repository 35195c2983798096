package harness_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

// events collects every event, safe for the scheduler's goroutines.
type events struct {
	mu   sync.Mutex
	list []harness.Event
	hook func(harness.Event)
}

func (e *events) Observe(ev harness.Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	hook := e.hook
	e.mu.Unlock()
	if hook != nil {
		hook(ev)
	}
}

func (e *events) count(kind harness.EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.list {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func newScheduler(t *testing.T, s *results.Store, tr harness.Trainer, obs harness.EventSink) *harness.Scheduler {
	dir := t.TempDir()
	return &harness.Scheduler{Store: s, Trainer: tr, Jobs: 2, RunsDir: filepath.Join(dir, "runs"),
		CacheDir: filepath.Join(dir, "cache"), LeaseTimeout: time.Second, Events: obs,
		ThreadPool: filepath.Join(dir, "threads"), Cores: 2}
}

func TestSchedulerTrainsGridAndSkipsDoneRuns(t *testing.T) {
	ctx := context.Background()
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1, 2, 3]", 40)
	ev := &events{}
	sched := newScheduler(t, store, &harnesstest.Trainer{}, ev)
	sum, err := sched.Run(ctx, g, runs)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if sum.Total != 6 || sum.Trained[results.Done] != 6 || sum.Final[results.Done] != 6 {
		t.Fatalf("summary=%+v, want 6 runs trained and done", sum)
	}
	wantThreads := float64(max(runtime.NumCPU()/2, 1))
	for _, spec := range runs {
		ms, err := store.Metrics(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		var losses int
		for _, m := range ms {
			switch m.Name {
			case "loss":
				losses++
			case "threads":
				if m.Value != wantThreads {
					t.Fatalf("run %s got %v threads, want cores/jobs = %v", spec.ID[:8], m.Value, wantThreads)
				}
			}
		}
		if losses != 8 {
			t.Fatalf("run %s has %d loss rows, want 8 (every 5 of 40 steps)", spec.ID[:8], losses)
		}
		evals, err := store.Evals(ctx, spec.ID)
		if err != nil || len(evals) != 3 {
			t.Fatalf("run %s evals=%v, %v; want 3 (loops 1..3)", spec.ID[:8], evals, err)
		}
		arts, err := store.Artifacts(ctx, spec.ID)
		if err != nil || len(arts) != 1 || arts[0].Path != "weights.json" || len(arts[0].SHA256) != 64 {
			t.Fatalf("run %s artifacts=%+v, %v; want weights.json with its sha256", spec.ID[:8], arts, err)
		}
		r, err := store.FindRun(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.CheckpointStep != 40 || r.Attempts != 1 {
			t.Fatalf("run %s: checkpoint %d after %d attempts, want 40 after 1", spec.ID[:8], r.CheckpointStep, r.Attempts)
		}
		p, err := store.Provenance(ctx, r.Provenance)
		if err != nil || p.LibtorchVersion != "none" || p.Info["trainer"] != "harnesstest" || p.GoVersion == "" {
			t.Fatalf("run %s provenance=%+v, %v; want the trainer's info and the Go version", spec.ID[:8], p, err)
		}
	}
	if got := ev.count(harness.EventStarted); got != 6 {
		t.Fatalf("started events=%d, want 6", got)
	}
	// A second run of the same grid trains nothing.
	sum, err = sched.Run(ctx, g, runs)
	if err != nil || sum.AlreadyDone != 6 || len(sum.Trained) != 0 {
		t.Fatalf("rerun summary=%+v, %v; want 6 already done and nothing trained", sum, err)
	}
}

func TestThreadBudget(t *testing.T) {
	tests := []struct {
		name      string
		threads   int
		overrides []string
		pool      string
		want      float64
	}{
		{"flag", 3, nil, "off", 3},
		{"train.threads beats the flag", 3, []string{"train.threads=5"}, "off", 5},
		{"capped at the host's 2 cores", 3, nil, "", 2},
		{"shared: one run alone grows to cores / jobs", 0, nil, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			store := harnesstest.MustOpenStore(t)
			g, runs := harnesstest.MustLoadGrid(t, "[1]", 10, tc.overrides...)
			sched := newScheduler(t, store, &harnesstest.Trainer{}, nil)
			sched.Threads = tc.threads
			if tc.pool != "" {
				sched.ThreadPool = tc.pool
			}
			if _, err := sched.Run(ctx, g, runs); err != nil {
				t.Fatal(err)
			}
			ms, err := store.Metrics(ctx, runs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Name == "threads" && m.Value != tc.want {
					t.Fatalf("threads=%v, want %v", m.Value, tc.want)
				}
			}
		})
	}
}

func TestFailuresAreIsolated(t *testing.T) {
	ctx := context.Background()
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1, 2, 3, 4]", 20)
	tr, err := harnesstest.Parse("fail=1,panic=2,nan=3")
	if err != nil {
		t.Fatal(err)
	}
	sched := newScheduler(t, store, tr, nil)
	sum, err := sched.Run(ctx, g, runs)
	if !errors.Is(err, harness.ErrRunsFailed) {
		t.Fatalf("Run err=%v, want ErrRunsFailed", err)
	}
	if sum.Trained[results.Failed] != 6 || sum.Trained[results.Done] != 2 || len(sum.Failures) != 6 {
		t.Fatalf("summary=%+v, want 6 failed (3 seeds × 2) and 2 done", sum)
	}
	wantErr := map[int64]string{1: "injected failure at step 10", 2: "panic: injected panic at step 10", 3: "loss is NaN at step 10"}
	for _, spec := range runs {
		r, err := store.FindRun(ctx, spec.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, bad := wantErr[spec.Seed]
		if !bad {
			if r.Status != results.Done {
				t.Fatalf("healthy run (seed %d) status=%s, want done", spec.Seed, r.Status)
			}
			continue
		}
		if r.Status != results.Failed || !strings.HasPrefix(r.Error, want) {
			t.Fatalf("seed %d: status %s error %q, want failed with %q", spec.Seed, r.Status, r.Error, want)
		}
		if spec.Seed == 2 && !strings.Contains(r.Error, "goroutine") {
			t.Fatalf("panic error %q lacks the stack", r.Error)
		}
		if spec.Seed == 3 {
			last, err := store.LastMetrics(ctx, spec.ID)
			if err != nil || len(last) == 0 || last[0].Name != "loss" || !math.IsNaN(last[0].Value) {
				t.Fatalf("NaN run last metrics=%v, %v; want the NaN loss kept", last, err)
			}
		}
	}
	// Without --retry-failed the failures stay; with it they are retrained.
	if _, err := sched.Run(ctx, g, runs); !errors.Is(err, harness.ErrRunsFailed) {
		t.Fatalf("rerun err=%v, want ErrRunsFailed", err)
	}
	sched.Trainer = &harnesstest.Trainer{}
	sched.RetryFailed = true
	sum, err = sched.Run(ctx, g, runs)
	if err != nil || sum.Trained[results.Done] != 6 || sum.Final[results.Done] != 8 {
		t.Fatalf("retry summary=%+v, %v; want the 6 failed runs done", sum, err)
	}
}

func TestCancelMarksRunsInterruptedAndResumes(t *testing.T) {
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1, 2]", 200)
	ledgerPath := filepath.Join(t.TempDir(), "ledger")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ev := &events{hook: func(e harness.Event) {
		if e.Kind == harness.EventProgress && e.Step >= 25 {
			cancel()
		}
	}}
	sched := newScheduler(t, store, &harnesstest.Trainer{StepDelay: time.Millisecond, Ledger: ledgerPath}, ev)
	sum, err := sched.Run(ctx, g, runs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run err=%v, want context.Canceled", err)
	}
	if sum.Trained[results.Interrupted] != 2 || sum.Final[results.Interrupted] != 2 || sum.Final[results.Pending] != 2 {
		t.Fatalf("summary=%+v, want 2 interrupted (the 2 workers' runs) and 2 pending", sum)
	}
	checkpoints := map[string]int{}
	for _, r := range mustGridRuns(t, store) {
		if r.Status != results.Interrupted {
			continue
		}
		// The trainer saved on the way out and the recorder flushed it
		// with the rows logged before it.
		if r.CheckpointStep <= 0 || !strings.Contains(r.Error, "context canceled") {
			t.Fatalf("interrupted run: checkpoint %d, error %q; want a checkpoint and the cancellation", r.CheckpointStep, r.Error)
		}
		checkpoints[r.ID] = r.CheckpointStep
		ms, err := store.LastMetrics(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Name == "loss" && m.Step+5 <= r.CheckpointStep {
				t.Fatalf("last loss at step %d but checkpoint at %d: logged rows were lost", m.Step, r.CheckpointStep)
			}
		}
	}
	ev.mu.Lock()
	ev.hook = nil
	ev.mu.Unlock()
	sum, err = sched.Run(context.Background(), g, runs)
	if err != nil || sum.Final[results.Done] != 4 {
		t.Fatalf("resume summary=%+v, %v; want all 4 done", sum, err)
	}
	ledger := mustReadFile(t, ledgerPath)
	if strings.Count(ledger, "start ") != 6 || strings.Count(ledger, "end ") != 4 {
		t.Fatalf("ledger:\n%s\nwant 6 starts (4 runs + 2 resumes) and 4 ends", ledger)
	}
	resumed := 0
	for _, line := range strings.Split(ledger, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] == "0" {
			continue
		}
		resumed++
		if step, _ := strconv.Atoi(f[2]); step != checkpoints[f[1]] {
			t.Fatalf("run %s resumed from step %d, want its checkpoint %d", f[1][:8], step, checkpoints[f[1]])
		}
	}
	if resumed != 2 {
		t.Fatalf("ledger:\n%s\nwant 2 attempts resumed from a checkpoint", ledger)
	}
}

func TestLostLeaseDiscardsTheAttempt(t *testing.T) {
	ctx := context.Background()
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 400, "train.loops=1")
	var thief *results.Lease
	var once sync.Once
	ev := &events{}
	ev.hook = func(e harness.Event) {
		if e.Kind != harness.EventProgress || e.Step < 20 {
			return
		}
		once.Do(func() {
			// Another process takes the run over as if this one had
			// stalled past the lease timeout.
			l, err := store.Claim(ctx, "thief", []string{runs[0].ID}, 0)
			if err != nil {
				t.Errorf("steal: %v", err)
				return
			}
			thief = l
			go func() {
				time.Sleep(100 * time.Millisecond)
				thief.Finish(ctx, results.Outcome{Status: results.Done})
			}()
		})
	}
	sched := newScheduler(t, store, &harnesstest.Trainer{StepDelay: time.Millisecond}, ev)
	sched.Jobs = 1
	sum, err := sched.Run(ctx, g, runs)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(sum.Trained) != 0 || sum.Final[results.Done] != 1 {
		t.Fatalf("summary=%+v, want nothing recorded by this process and the thief's done", sum)
	}
	if ev.count(harness.EventWarning) != 1 || ev.count(harness.EventWaiting) != 1 {
		t.Fatalf("warnings=%d waits=%d, want 1 lost-lease warning and 1 wait for the thief",
			ev.count(harness.EventWarning), ev.count(harness.EventWaiting))
	}
	r, err := store.FindRun(ctx, runs[0].ID)
	if err != nil || r.Status != results.Done || r.Attempts != 2 {
		t.Fatalf("run=%+v, %v; want done by the thief on attempt 2", r, err)
	}
}

func mustGridRuns(t *testing.T, s *results.Store) []results.Run {
	t.Helper()
	runs, err := s.GridRuns(context.Background(), "fake")
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func mustReadFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// batchTrainer logs n metric rows, then waits for release: the test looks
// at the database mid-run.
type batchTrainer struct {
	n       int
	logged  chan struct{}
	release chan struct{}
}

func (b *batchTrainer) Info() map[string]string { return nil }

func (b *batchTrainer) Run(ctx context.Context, run experiments.RunSpec, env harness.Env) error {
	for i := range b.n {
		env.Recorder.Metric(i, "loss", float64(i))
	}
	close(b.logged)
	<-b.release
	return nil
}

func TestRecorderWritesInBatches(t *testing.T) {
	ctx := context.Background()
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 10, "train.loops=1")
	tr := &batchTrainer{n: 1500, logged: make(chan struct{}), release: make(chan struct{})}
	sched := newScheduler(t, store, tr, nil)
	done := make(chan error)
	go func() {
		_, err := sched.Run(ctx, g, runs)
		done <- err
	}()
	<-tr.logged
	ms, err := store.Metrics(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// One full batch is on disk mid-run; the rest waits for the next flush.
	if len(ms) != 1000 {
		t.Fatalf("mid-run metric rows=%d, want one batch of 1000", len(ms))
	}
	close(tr.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ms, _ = store.Metrics(ctx, runs[0].ID); len(ms) != 1500 {
		t.Fatalf("metric rows at the end=%d, want 1500", len(ms))
	}
}

// A fresh results database must not adopt checkpoints another database's
// attempts left in the runs folder: its runs train from step 0 and the old
// folders are moved aside, not deleted.
func TestFreshDatabaseSetsAsideForeignCheckpoints(t *testing.T) {
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 20)
	runsDir := filepath.Join(t.TempDir(), "runs")
	ledgerPath := filepath.Join(t.TempDir(), "ledger")
	for round, name := range []string{"first", "second"} {
		ev := &events{}
		sched := newScheduler(t, harnesstest.MustOpenStore(t), &harnesstest.Trainer{Ledger: ledgerPath}, ev)
		sched.RunsDir = runsDir
		sum, err := sched.Run(context.Background(), g, runs)
		if err != nil || sum.Final[results.Done] != len(runs) {
			t.Fatalf("%s database: summary=%+v, %v; want %d done", name, sum, err, len(runs))
		}
		if got, want := ev.count(harness.EventWarning), round*len(runs); got != want {
			t.Fatalf("%s database: %d warnings, want %d (one per set-aside folder)", name, got, want)
		}
	}
	ledger := mustReadFile(t, ledgerPath)
	for _, line := range strings.Split(strings.TrimSpace(ledger), "\n") {
		if f := strings.Fields(line); f[0] == "start" && f[2] != "0" {
			t.Fatalf("ledger:\n%s\nwant every attempt to start at step 0", ledger)
		}
	}
	if n := strings.Count(ledger, "end "); n != 2*len(runs) {
		t.Fatalf("ledger:\n%s\nwant %d trainings to the end", ledger, 2*len(runs))
	}
	for _, r := range runs {
		aside, _ := filepath.Glob(filepath.Join(runsDir, r.ID+".set-aside-*", "checkpoint.json"))
		if len(aside) != 1 {
			t.Errorf("run %s: %d set-aside checkpoints, want 1", r.ID[:8], len(aside))
		}
	}
}
