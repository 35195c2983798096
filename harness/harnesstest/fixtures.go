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

// gridText is 2 training-loop settings × the given seeds of the test
// trainer's problem, steps long, checkpointed every 10 steps.
const gridText = `
name = %q
title = %q
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

// WriteGrid writes the test grid called name into dir as grid.toml: 2
// training-loop settings × seeds (a TOML list such as "[1, 2]"), steps
// long. It returns the file's path.
func WriteGrid(tb testing.TB, dir, name, title, seeds string, steps int) string {
	tb.Helper()
	path := filepath.Join(dir, "grid.toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(gridText, name, title, seeds, steps)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// MustLoadGrid writes the test grid "fake" and loads and expands it.
func MustLoadGrid(tb testing.TB, seeds string, steps int, overrides ...string) (*experiments.Grid, []experiments.RunSpec) {
	tb.Helper()
	path := WriteGrid(tb, tb.TempDir(), "fake", "", seeds, steps)
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
