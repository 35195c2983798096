package harnesstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"outerloop/experiments"
	"outerloop/results"
)

// fakeGrid is 2 training-loop settings × the given seeds of the test
// trainer's problem, steps long, checkpointed every 10 steps.
const fakeGrid = `
name = "fake"
seeds = %s
[task]
name = "sudoku"
size = 4
[train]
steps = %d
log_every = 5
checkpoint_every = 10
[eval]
loops = 3
[sweep]
"train.loops" = [1, 2]
`

// MustLoadGrid writes a grid file and loads and expands it.
func MustLoadGrid(tb testing.TB, seeds string, steps int, overrides ...string) (*experiments.Grid, []experiments.RunSpec) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "grid.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(fakeGrid, seeds, steps)), 0o644); err != nil {
		tb.Fatal(err)
	}
	g, err := experiments.Load(path, overrides)
	if err != nil {
		tb.Fatalf("load grid: %v", err)
	}
	runs, err := g.Expand()
	if err != nil {
		tb.Fatalf("expand grid: %v", err)
	}
	return g, runs
}

// MustOpenStore opens a fresh results database.
func MustOpenStore(tb testing.TB) *results.Store {
	tb.Helper()
	s, err := results.Open(context.Background(), filepath.Join(tb.TempDir(), "results.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
