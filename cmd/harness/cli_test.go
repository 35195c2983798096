package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

// writeGrid writes the test grid "cli" (2 loop settings × the seeds, steps
// long) into dir and returns its path.
func writeGrid(t *testing.T, dir, seeds string, steps int) string {
	return harnesstest.WriteGrid(t, dir, "cli", "CLI test grid", seeds, steps)
}

// cli runs the command line in-process and returns the exit code and output.
func cli(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpOnEveryCommand(t *testing.T) {
	code, out, _ := cli("--help")
	if code != exitOK || !strings.Contains(out, "Exit codes:") {
		t.Fatalf("harness --help: code %d, output %q; want 0 and the exit codes documented", code, out)
	}
	for _, c := range commands {
		code, out, _ := cli(c.name, "--help")
		if code != exitOK || !strings.Contains(out, "Usage: harness "+c.name) || !strings.Contains(out, "Example") {
			t.Fatalf("harness %s --help: code %d, output:\n%s\nwant 0, usage and examples", c.name, code, out)
		}
	}
}

func TestExitCodesForBadInput(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1]", 10)
	badGrid := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(badGrid, []byte("name = \"bad\"\n[train]\nloops = 0\nstepz = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "r.db")
	tests := []struct {
		args       []string
		want       int
		wantStderr string
	}{
		{nil, exitBadInput, ""},
		{[]string{"frobnicate"}, exitBadInput, "unknown command"},
		{[]string{"run"}, exitBadInput, "want one grid file"},
		{[]string{"run", "--jobs", "-1", grid}, exitBadInput, "--jobs"},
		{[]string{"run", "--nope", grid}, exitBadInput, "flag provided but not defined: -nope"},
		{[]string{"run", "--set", "train.steps", grid}, exitBadInput, "want key=value"},
		{[]string{"run", filepath.Join(dir, "missing.toml")}, exitBadInput, "missing.toml"},
		{[]string{"run", "--db", db, badGrid}, exitBadInput, "train.loops"},
		{[]string{"run", "--db", db, badGrid}, exitBadInput, "train.stepz"},
		{[]string{"plan", "--set", "train.loops=-1", grid}, exitBadInput, "train.loops"},
		{[]string{"ls", "--db", filepath.Join(dir, "none.db")}, exitBadInput, "none.db"},
		{[]string{"export", "--db", db, "--format", "parquet"}, exitBadInput, "parquet"},
		{[]string{"merge", "a.db"}, exitBadInput, "-o MAIN.db"},
		// A run that cannot train (no GPU in this build) fails: exit 1, not bad input.
		{[]string{"run", "--db", db, "--set", "train.device=cuda", grid}, exitFailed, "cuda"},
	}
	for _, tc := range tests {
		code, _, stderr := cli(tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.wantStderr) {
			t.Fatalf("harness %s: code %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.want, tc.wantStderr)
		}
	}
	// Grid errors name the file and line, and come one per line.
	_, _, stderr := cli("run", "--db", db, badGrid)
	if !strings.Contains(stderr, "bad.toml:3") || strings.Count(strings.TrimSpace(stderr), "\n") < 1 {
		t.Fatalf("grid errors:\n%s\nwant one per line, with bad.toml:3", stderr)
	}
}

// trainedDB plans and trains the grid at path into a database with the
// test trainer, failing seed 2, as `harness run` would.
func trainedDB(t *testing.T, dir, gridPath string) string {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(dir, "results.db")
	store, err := results.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g, err := experiments.Load(gridPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := harnesstest.Parse("fail=2")
	if err != nil {
		t.Fatal(err)
	}
	sched := &harness.Scheduler{Store: store, Trainer: tr, RunsDir: filepath.Join(dir, "runs"), LeaseTimeout: time.Second}
	if _, err := sched.Run(ctx, g, runs); err == nil {
		t.Fatalf("training with a failing seed succeeded")
	}
	return db
}

func TestPlanLsShow(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 20)
	code, out, _ := cli("plan", "--db", filepath.Join(dir, "results.db"), grid)
	if code != exitOK || !strings.Contains(out, "grid cli (CLI test grid): 4 runs = 2 seeds × 2 configurations") ||
		!strings.Contains(out, "4 new") || !strings.Contains(out, "seed  train.loops") {
		t.Fatalf("plan before any run: code %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.db")); err == nil {
		t.Fatalf("plan created the database; it must only read")
	}
	db := trainedDB(t, dir, grid)
	code, out, _ = cli("plan", "--db", db, grid)
	if code != exitOK || !strings.Contains(out, "2 done, 2 failed") {
		t.Fatalf("plan after training: code %d\n%s", code, out)
	}
	code, out, _ = cli("ls", "--db", db)
	if code != exitOK || !regexpLine(out, `^cli\s+4\s+2\s+0\s+0\s+0\s+2\s`) {
		t.Fatalf("ls: code %d\n%s\nwant cli with 4 runs: 2 done, 2 failed", code, out)
	}
	code, out, _ = cli("ls", "--db", db, "cli")
	if code != exitOK || strings.Count(out, "injected failure at step 10") != 2 || strings.Count(out, " done ") != 2 {
		t.Fatalf("ls cli: code %d\n%s", code, out)
	}
	failedID := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "failed") {
			failedID = strings.Fields(l)[0]
		}
	}
	code, out, _ = cli("show", "--db", db, failedID)
	for _, want := range []string{`status\s+failed after 1 attempts`, "injected failure at step 10", `"loops": 3`, `trainer\s+harnesstest`} {
		if ok, _ := regexp.MatchString(want, out); code != exitOK || !ok {
			t.Fatalf("show %s: code %d\n%s\nlacks %q", failedID, code, out, want)
		}
	}
	if code, _, stderr := cli("show", "--db", db, "ffffffffffff"); code != exitBadInput || !strings.Contains(stderr, "not found") {
		t.Fatalf("show of an unknown id: code %d, %q; want 2, not found", code, stderr)
	}
}

func regexpLine(text, pattern string) bool {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if matched, _ := regexp.MatchString(pattern, sc.Text()); matched {
			return true
		}
	}
	return false
}

func TestExportAndMergeCommands(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 20)
	db := trainedDB(t, dir, grid)
	for _, format := range []string{"csv", "jsonl"} {
		out := filepath.Join(dir, "export-"+format)
		code, stdout, stderr := cli("export", "--db", db, "--grid", "cli", "--format", format, "-o", out)
		if code != exitOK {
			t.Fatalf("export %s: code %d, %s", format, code, stderr)
		}
		header := map[string]int{"csv": 1, "jsonl": 0}[format]
		for name, want := range map[string]int{"runs": 4, "metrics": 2*(4+1) + 2*(1+1), "evals": 2 * 3} {
			path := filepath.Join(out, name+"."+format)
			if !strings.Contains(stdout, path) {
				t.Fatalf("export printed %q, want it to name %s", stdout, path)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(b), "\n") - header; got != want {
				t.Fatalf("%s has %d rows, want %d", path, got, want)
			}
		}
	}
	merged := filepath.Join(dir, "merged.db")
	code, out, _ := cli("merge", db, "-o", merged)
	if code != exitOK || !strings.Contains(out, "4 runs added, 0 updated, 0 kept") {
		t.Fatalf("merge: code %d, %q", code, out)
	}
	code, out, _ = cli("merge", db, "-o", merged)
	if code != exitOK || !strings.Contains(out, "0 runs added, 0 updated, 4 kept") {
		t.Fatalf("second merge: code %d, %q; want nothing changed", code, out)
	}
	code, out, _ = cli("ls", "--db", merged, "cli")
	if code != exitOK || strings.Count(out, " done ") != 2 || strings.Count(out, " failed ") != 2 {
		t.Fatalf("ls of the merged db: code %d\n%s", code, out)
	}
}
