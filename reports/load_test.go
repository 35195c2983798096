package reports

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/results"
)

const loadGridTOML = `
name = "load-test"
title = "Loops on 4x4 Sudoku"
description = "A grid for the report loader's test."
seeds = [1, 2]

[task]
name = "sudoku"
size = 4

[eval]
loops = 2

[sweep]
"train.loops" = [1, 2]

[[expect]]
metric = "exact_accuracy"
at = 2
increases_with = "train.loops"

[[expect]]
metric = "exact_accuracy"
greater = {a = "train.loops=2", b = "train.loops=1", margin = 0.01}
`

// MustLoadGridFile writes content as grid.toml in dir, loads it and expands
// it.
func MustLoadGridFile(tb testing.TB, dir, content string) (*experiments.Grid, []experiments.RunSpec) {
	tb.Helper()
	path := filepath.Join(dir, "grid.toml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	g, err := experiments.Load(path, nil)
	if err != nil {
		tb.Fatalf("load grid: %v", err)
	}
	specs, err := g.Expand()
	if err != nil {
		tb.Fatalf("expand grid: %v", err)
	}
	return g, specs
}

// MustPlanLoadGrid writes the test grid, plans it into a fresh store and
// records results for three of its four runs: two done, one failed.
func MustPlanLoadGrid(tb testing.TB) (*results.Store, *experiments.Grid, []experiments.RunSpec) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	g, specs := MustLoadGridFile(tb, dir, loadGridTOML)
	store, err := results.Open(ctx, filepath.Join(dir, "results.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	var planned []results.NewRun
	for _, s := range specs {
		cfg, err := s.CanonicalJSON()
		if err != nil {
			tb.Fatal(err)
		}
		planned = append(planned, results.NewRun{ID: s.ID, Seed: s.Seed, Config: cfg})
	}
	if err := store.Plan(ctx, results.Grid{Name: g.Name, Title: g.Title, Description: g.Description, Path: g.Path}, planned); err != nil {
		tb.Fatal(err)
	}
	prov, err := store.AddProvenance(ctx, results.Provenance{GitCommit: "abc123", GitDirty: true, GoVersion: "go1.26.8",
		LibtorchVersion: "2.1.0", LibtorchABI: "pre-cxx11", Host: "h", CPUModel: "cpu", Threads: 2})
	if err != nil {
		tb.Fatal(err)
	}
	for i, s := range specs[:3] {
		lease, err := store.Claim(ctx, "test", []string{s.ID}, time.Minute)
		if err != nil {
			tb.Fatal(err)
		}
		acc := 0.2 + 0.3*float64(s.Train.Loops)
		b := results.Batch{Checkpoint: results.NoCheckpoint, Metrics: []results.Metric{
			{Step: 0, Name: "loss", Value: 2}, {Step: 10, Name: "loss", Value: 1},
			{Step: 0, Name: MetricTrainFLOPs, Value: 1e9}, {Step: 10, Name: MetricTrainFLOPs, Value: 2e9},
			{Step: 10, Name: HaltSegmentsPrefix + "1", Value: 5}, {Step: 10, Name: HaltSegmentsPrefix + "2", Value: 3},
		}, Evals: []results.Eval{
			{Step: 5, Loops: 1, Name: "exact_accuracy", Value: 0.01}, {Step: 5, Loops: 2, Name: "exact_accuracy", Value: 0.02},
			{Step: 10, Loops: 1, Name: "exact_accuracy", Value: acc - 0.1}, {Step: 10, Loops: 2, Name: "exact_accuracy", Value: acc},
		}}
		if i == 2 {
			b.Metrics = append(b.Metrics, results.Metric{Step: 20, Name: "loss", Value: math.NaN()})
		}
		if err := lease.Write(ctx, b); err != nil {
			tb.Fatal(err)
		}
		if err := lease.SetProvenance(ctx, prov); err != nil {
			tb.Fatal(err)
		}
		outcome := results.Outcome{Status: results.Done, Wall: 3 * time.Second}
		if i == 2 {
			outcome = results.Outcome{Status: results.Failed, Error: "loss is NaN at step 20", Wall: time.Second}
		}
		if err := lease.Finish(ctx, outcome); err != nil {
			tb.Fatal(err)
		}
	}
	return store, g, specs
}

func TestLoadGrid(t *testing.T) {
	store, g, specs := MustPlanLoadGrid(t)
	ctx := context.Background()
	d, err := LoadGrid(ctx, store, g)
	if err != nil {
		t.Fatal(err)
	}
	if d.Grid.Name != "load-test" || d.Grid.Title != "Loops on 4x4 Sudoku" || !reflect.DeepEqual(d.Grid.Varying, []string{"train.loops"}) {
		t.Fatalf("grid=%+v, want load-test with varying [train.loops]", d.Grid)
	}
	wantClaims := []string{
		"exact_accuracy increases with train.loops at eval.loops=2",
		"exact_accuracy of train.loops=2 exceeds train.loops=1 by more than 0.01 at final eval",
	}
	if got := fmt.Sprint(d.Claims); got != fmt.Sprint(wantClaims) {
		t.Fatalf("claims=%s, want %s", got, wantClaims)
	}
	if len(d.Runs) != 4 {
		t.Fatalf("%d runs, want 4", len(d.Runs))
	}
	first := d.Runs[0]
	if first.ID != specs[0].ID || first.Config.ID != specs[0].ID || first.Status != "done" || first.Config.Train.Loops != 1 || first.Config.Task.Name != "sudoku" {
		t.Fatalf("first run=%+v, want %s done with train.loops=1 on sudoku", first, specs[0].ID)
	}
	if first.TrainFLOPs != 2e9 || !reflect.DeepEqual(first.HaltSegments, []int{5, 3}) || first.WallSeconds != 3 {
		t.Fatalf("first run flops=%v halt=%v wall=%v, want 2e9, [5 3], 3", first.TrainFLOPs, first.HaltSegments, first.WallSeconds)
	}
	if got := first.Evals["exact_accuracy"]; len(got) != 2 || !near(got[2], 0.5, 1e-12) || !near(got[1], 0.4, 1e-12) {
		t.Fatalf("evals=%v, want the final evaluation {1: 0.4, 2: 0.5}", got)
	}
	if got := first.Curves["loss"]; len(got) != 2 || got[1] != (Point{Step: 10, Value: 1}) || first.Curves[MetricTrainFLOPs] != nil {
		t.Fatalf("curves=%v, want loss at steps 0 and 10 and no FLOPs curve", first.Curves)
	}
	failed := d.Runs[2]
	if failed.Status != "failed" || failed.Error != "loss is NaN at step 20" || !math.IsNaN(failed.Curves["loss"][2].Value) {
		t.Fatalf("failed run=%+v, want failed with its error and the NaN loss kept", failed)
	}
	if d.Runs[3].Status != "pending" || len(d.Provenance) != 1 || len(d.Provenance[0].RunIDs) != 3 || !d.Provenance[0].Dirty {
		t.Fatalf("last run %s, provenance %+v, want pending and one dirty provenance for 3 runs", d.Runs[3].Status, d.Provenance)
	}

	byName, err := Load(ctx, store, "load-test")
	if err != nil {
		t.Fatal(err)
	}
	// Printed forms, because the failed run's NaN loss is never DeepEqual
	// to itself.
	if got, want := fmt.Sprintf("%+v", byName), fmt.Sprintf("%+v", d); got != want {
		t.Fatalf("Load by name differs from LoadGrid:\n%s\n%s", got, want)
	}
	if _, err := Load(ctx, store, "nope"); err == nil || !strings.Contains(err.Error(), "no grid of that name") {
		t.Fatalf("Load of an unknown grid: %v, want an error naming the problem", err)
	}

	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Verdicts[0]; v.Outcome != Inconclusive || !strings.Contains(v.Reason, "need 3") {
		t.Fatalf("verdict with two seeds: %s (%s), want inconclusive for too few seeds", v.Outcome, v.Reason)
	}
}

func TestLoadGridUnplannedRuns(t *testing.T) {
	store, g, _ := MustPlanLoadGrid(t)
	more, err := experiments.Load(g.Path, []string{"seeds=[1, 2, 3]"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := LoadGrid(context.Background(), store, more)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 6 {
		t.Fatalf("%d runs, want 6", len(d.Runs))
	}
	for _, r := range d.Runs[4:] {
		if r.Status != "pending" || r.Config.Seed != 3 || r.Config.ID != r.ID || r.Config.Task.Name != "sudoku" {
			t.Fatalf("unplanned run=%+v, want pending seed 3 on sudoku with its typed config", r)
		}
	}
}
