package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"outerloop/results"
)

// realGrid is a tiny grid trained by the real engine (gotch): two runs that
// checkpoint every 100 steps.
const realGrid = `name = "cli"
seeds = [1]
[[expect]]
metric = "exact_accuracy"
at = "train.loops"
increases_with = "train.loops"
[task]
name = "sudoku"
size = 4
train = 200
test = 32
[model]
core = "transformer"
hidden = 32
heads = 2
layers = 1
[train]
steps = 800
batch = 16
checkpoint_every = 100
log_every = 50
halting = "off"
[eval]
loops = 2
[sweep]
"train.loops" = [1, 2]
`

// TestRealTrainingSurvivesKill9 runs a grid through the binary with the
// real trainer, kills it with SIGKILL mid-run, reruns it, and checks every
// run finished exactly once, the killed one resumed from its checkpoint, and
// the report was written.
func TestRealTrainingSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.toml")
	if err := os.WriteFile(grid, []byte(realGrid), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "r.db")
	first := startHarness(t, "", "run", "--db", db, "--jobs", "1", grid)
	until(t, db, first, "a checkpoint mid-run", func(runs []results.Run) bool {
		for _, r := range runs {
			if r.Status == results.Running && r.CheckpointStep >= 100 {
				return true
			}
		}
		return false
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done

	second := startHarness(t, "", "run", "--db", db, "--jobs", "1", grid)
	if code := second.exit(t, 3*time.Minute); code != exitOK {
		t.Fatalf("rerun exit code %d; output:\n%s", code, second.output())
	}
	runs := gridRuns(t, db)
	resumed := 0
	for _, r := range runs {
		if r.Status != results.Done {
			t.Fatalf("run %s is %s after the rerun; output:\n%s", r.ID, r.Status, second.output())
		}
		if r.Attempts == 2 {
			resumed++
		}
	}
	if len(runs) != 2 || resumed != 1 {
		t.Fatalf("%d runs, %d resumed; want 2 runs, the killed one resumed once", len(runs), resumed)
	}
	s, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, r := range runs {
		m, err := s.Metrics(context.Background(), r.ID)
		if err != nil {
			t.Fatal(err)
		}
		steps := map[int]bool{}
		for _, x := range m {
			if x.Name == "loss" {
				steps[x.Step] = true
			}
		}
		if len(steps) != 16 { // every 50th step of 800, each exactly once
			t.Fatalf("run %s (attempts %d) has loss at steps %v, want every 50th of 800", r.ID, r.Attempts, steps)
		}
	}
	out := second.output()
	report := filepath.Join(dir, "reports", "cli", "index.html")
	if _, err := os.Stat(report); err != nil || !strings.Contains(out, "report: "+report) {
		t.Fatalf("no report at %s (%v); output:\n%s", report, err, out)
	}
}
