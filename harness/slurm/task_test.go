package slurm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/harnesstest"
	"outerloop/harness/slurm"
	"outerloop/results"
)

// These tests run array tasks in-process, without Slurm: PATH is emptied,
// so Collect and slurm.States fall back to what the shards say. The real
// cluster is exercised by cmd/harness's TestSlurm* tests.

// slurmFixture is a submission folder with its run list and main database.
type slurmFixture struct {
	main *results.Store
	dir  string // the submission folder
	list string
	runs []experiments.RunSpec
}

// mustSubmissionFolder writes a run list for runs as Submit would, under
// slurm/ beside a fresh main database holding the grid's plan. seeds maps
// list indexes to seed files.
func mustSubmissionFolder(t *testing.T, g *experiments.Grid, runs []experiments.RunSpec, seeds map[int]string) *slurmFixture {
	t.Helper()
	t.Setenv("PATH", t.TempDir())
	f := &slurmFixture{main: harnesstest.MustOpenStore(t), runs: runs}
	planned := make([]results.NewRun, len(runs))
	l := &slurm.RunList{Grid: slurm.ListGrid{Name: g.Name, Path: g.Path}, DB: f.main.Path(),
		RunsDir: filepath.Join(filepath.Dir(f.main.Path()), "runs")}
	for i, spec := range runs {
		cfg, err := spec.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		planned[i] = results.NewRun{ID: spec.ID, Seed: spec.Seed, Config: cfg}
		l.Runs = append(l.Runs, slurm.ListedRun{ID: spec.ID, Config: json.RawMessage(cfg), Seed: seeds[i]})
	}
	if err := f.main.Plan(context.Background(), results.Grid{Name: g.Name}, planned); err != nil {
		t.Fatal(err)
	}
	f.dir = filepath.Join(slurm.DefaultDir(f.main.Path()), g.Name+"-1")
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.list = filepath.Join(f.dir, "runs.json")
	if err := slurm.WriteRunList(f.list, l); err != nil {
		t.Fatal(err)
	}
	return f
}

// task returns array task i of job 7 on the fixture's list.
func (f *slurmFixture) task(t *testing.T, i int, trainer *harnesstest.Trainer) *slurm.Task {
	return &slurm.Task{List: f.list, Index: i, Shard: slurm.ShardPath(f.dir, "7", i), Trainer: trainer, Threads: 1}
}

func mustTrainer(t *testing.T, spec string) *harnesstest.Trainer {
	t.Helper()
	tr, err := harnesstest.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSlurmTasksWriteOnlyTheirShardsAndCollectMergesThem(t *testing.T) {
	ctx := context.Background()
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 20)
	f := mustSubmissionFolder(t, g, runs, nil)
	tr := mustTrainer(t, "")
	for i := range runs {
		out, err := f.task(t, i, tr).Run(ctx)
		if err != nil || out.Status != results.Done || out.Run != runs[i].ID {
			t.Fatalf("task %d: %+v, %v; want run %s done", i, out, err, runs[i].ID[:8])
		}
	}
	// The main database is untouched until collected.
	before, err := f.main.Statuses(ctx, []string{runs[0].ID, runs[1].ID})
	if err != nil || before[runs[0].ID] != results.Pending || before[runs[1].ID] != results.Pending {
		t.Fatalf("main database before collect: %v, %v; want both pending", before, err)
	}
	states, err := slurm.States(ctx, f.main, slurm.DefaultDir(f.main.Path()))
	if err != nil || len(states) != 2 || states[runs[1].ID].Status != "done" || states[runs[1].ID].Task != "7_1" {
		t.Fatalf("slurm.States=%+v, %v; want both runs done in tasks 7_0 and 7_1", states, err)
	}
	rep, err := slurm.Collect(ctx, f.main, slurm.DefaultDir(f.main.Path()), nil)
	if err != nil || len(rep.Merged) != 2 || rep.Merged[0].Updated != 1 {
		t.Fatalf("Collect=%+v, %v; want 2 shards merged", rep, err)
	}
	// Without squeue nobody can tell the array ended, so it stays
	// uncollected, and collecting again changes nothing.
	rep, err = slurm.Collect(ctx, f.main, slurm.DefaultDir(f.main.Path()), []string{"7"})
	if err != nil || len(rep.Merged) != 2 || rep.Merged[0].Kept != 1 || rep.Merged[1].Kept != 1 || len(rep.Jobs) != 0 {
		t.Fatalf("second Collect=%+v, %v; want both shards kept, the job not marked collected", rep, err)
	}
	after, err := f.main.GridRuns(ctx, g.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range after {
		if r.Status != results.Done || r.Attempts != 1 {
			t.Fatalf("run %s after collect: %s, %d attempts; want done once", r.ID[:8], r.Status, r.Attempts)
		}
	}
	if states, err := slurm.States(ctx, f.main, slurm.DefaultDir(f.main.Path())); err != nil || len(states) != 0 {
		t.Fatalf("slurm.States after collect=%+v, %v; want none (done runs are the database's)", states, err)
	}
}

func TestSlurmTaskWarningSavesAndResumes(t *testing.T) {
	ctx := context.Background()
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 400)
	f := mustSubmissionFolder(t, g, runs[:1], nil)
	ledger := filepath.Join(t.TempDir(), "ledger")
	tr := mustTrainer(t, "delay=2ms,ledger="+ledger)

	wctx, warn := context.WithCancelCause(ctx)
	task := f.task(t, 0, tr)
	task.Requeue = true
	time.AfterFunc(300*time.Millisecond, func() { warn(slurm.ErrWarning) })
	out, err := task.Run(wctx)
	if out.Status != results.Interrupted || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not in a slurm array task") {
		t.Fatalf("warned task: %+v, %v; want interrupted, cancelled, and no requeue outside Slurm", out, err)
	}
	// The requeued task: same list, same shard.
	out, err = f.task(t, 0, tr).Run(ctx)
	if err != nil || out.Status != results.Done {
		t.Fatalf("requeued task: %+v, %v; want done", out, err)
	}
	b, err := os.ReadFile(ledger)
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "start" {
			starts = append(starts, f[2])
		}
	}
	if len(starts) != 2 || starts[0] != "0" || starts[1] == "0" {
		t.Fatalf("ledger starts %v, want a fresh start then a resume from a checkpoint", starts)
	}
}

func TestSlurmTaskStartsFromItsSeed(t *testing.T) {
	ctx := context.Background()
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 40)
	// The run's first attempt, in a database of its own, fails at step 20
	// after a checkpoint at 10 (the test trainer's fault by seed).
	first := harnesstest.MustOpenStore(t)
	runsDir := filepath.Join(t.TempDir(), "runs")
	sched := &harness.Scheduler{Store: first, Trainer: mustTrainer(t, "fail=1"), RunsDir: runsDir}
	if _, err := sched.Run(ctx, g, runs[:1]); !errors.Is(err, harness.ErrRunsFailed) {
		t.Fatalf("first attempt: %v, want it failed", err)
	}
	f := mustSubmissionFolder(t, g, runs[:1], map[int]string{0: "seed-0.db"})
	seed, err := results.Open(ctx, filepath.Join(f.dir, "seed-0.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seed.MergeRuns(ctx, first.Path(), []string{runs[0].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Requeue(ctx, []string{runs[0].ID}, results.Failed); err != nil {
		t.Fatal(err)
	}
	seed.Close()
	// Point the list at the first attempt's run folders (its checkpoint).
	l, err := slurm.ReadRunList(f.list)
	if err != nil {
		t.Fatal(err)
	}
	l.RunsDir = runsDir
	if err := slurm.WriteRunList(f.list, l); err != nil {
		t.Fatal(err)
	}
	out, err := f.task(t, 0, mustTrainer(t, "")).Run(ctx)
	if err != nil || out.Status != results.Done {
		t.Fatalf("seeded task: %+v, %v; want done", out, err)
	}
	if _, err := slurm.Collect(ctx, f.main, slurm.DefaultDir(f.main.Path()), nil); err != nil {
		t.Fatal(err)
	}
	got, err := f.main.Runs(ctx, []string{runs[0].ID})
	if err != nil || len(got) != 1 || got[0].Status != results.Done || got[0].Attempts != 2 {
		t.Fatalf("run after collect: %+v, %v; want done after 2 attempts", got, err)
	}
	ms, err := f.main.Metrics(ctx, runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, m := range ms {
		if m.Name == "loss" {
			steps = append(steps, m.Step)
		}
	}
	if fmt.Sprint(steps) != "[5 10 15 20 25 30 35 40]" {
		t.Fatalf("loss logged at steps %v, want 5..40: the first attempt's steps come from the seed", steps)
	}
}

func TestRunListSpecChecksTheID(t *testing.T) {
	g, runs := harnesstest.MustLoadGrid(t, "[1]", 20)
	f := mustSubmissionFolder(t, g, runs, nil)
	l, err := slurm.ReadRunList(f.list)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := l.Spec(1)
	if err != nil || spec.ID != runs[1].ID || spec.Grid != g.Name {
		t.Fatalf("Spec(1)=%s in %q, %v; want %s in %q", spec.ID, spec.Grid, err, runs[1].ID, g.Name)
	}
	tests := []struct {
		name  string
		edit  func(*slurm.RunList)
		index int
		want  string
	}{
		{"index past the end", func(*slurm.RunList) {}, 2, "no index 2"},
		{"config of another run", func(l *slurm.RunList) { l.Runs[0].Config = l.Runs[1].Config }, 0, "hashes to"},
		{"not a run", func(l *slurm.RunList) { l.Runs[0].Config = json.RawMessage(`{"nope": 1}`) }, 0, "nope"},
	}
	for _, tc := range tests {
		l, _ := slurm.ReadRunList(f.list)
		tc.edit(l)
		if _, err := l.Spec(tc.index); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: Spec err=%v, want %q", tc.name, err, tc.want)
		}
	}
	if err := os.WriteFile(f.list, []byte(`{"version": 99}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := slurm.ReadRunList(f.list); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Fatalf("ReadRunList of version 99: %v, want refused", err)
	}
}
