package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"outerloop/results"
)

// These tests run the real binary, built with -tags harnesstest so that
// OUTERLOOP_TEST_TRAINER selects the pure-Go test trainer, and kill,
// interrupt and race it as a user would.

var binDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "harness-bin-") })

// buildHarness builds the test binary once per test process.
var buildHarness = sync.OnceValues(func() (string, error) {
	dir, err := binDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "harness")
	out, err := exec.Command("go", "build", "-tags", "harnesstest", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	// Runs of these tests share cores through a pool of their own, not
	// with whatever else trains on this machine.
	pool, err := os.MkdirTemp("", "harness-threads-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(threadPoolVar, pool)
	code := m.Run()
	os.RemoveAll(pool)
	if dir, err := binDir(); err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// proc is a running harness binary with its combined output.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startHarness starts the binary with the test trainer spec, or with the
// real trainer when spec is "".
func startHarness(t *testing.T, trainer string, args ...string) *proc {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the harness binary")
	}
	bin, err := buildHarness()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = os.Environ()
	if trainer != "" { // "" trains for real, with gotch
		p.cmd.Env = append(p.cmd.Env, "OUTERLOOP_TEST_TRAINER="+trainer)
	}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// exit waits for the process and returns its exit code.
func (p *proc) exit(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("harness still running after %s; output:\n%s", timeout, p.output())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// until polls the database until cond holds for the grid's runs.
func until(t *testing.T, db string, p *proc, what string, cond func([]results.Run) bool) []results.Run {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(db); err == nil {
			runs := gridRuns(t, db)
			if cond(runs) {
				return runs
			}
		}
		select {
		case <-p.done:
			t.Fatalf("harness exited before %s; output:\n%s", what, p.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("timed out waiting for %s; output:\n%s", what, p.output())
	return nil
}

func gridRuns(t *testing.T, db string) []results.Run {
	t.Helper()
	s, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	runs, err := s.GridRuns(context.Background(), "cli")
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func count(runs []results.Run, st results.Status, minCheckpoint int) int {
	n := 0
	for _, r := range runs {
		if r.Status == st && r.CheckpointStep >= minCheckpoint {
			n++
		}
	}
	return n
}

// starts parses a test-trainer ledger: the steps each run's attempts
// started from.
func starts(t *testing.T, path string) map[string][]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]int{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "start" {
			step, _ := strconv.Atoi(f[2])
			out[f[1]] = append(out[f[1]], step)
		}
	}
	return out
}

func TestKill9ThenRerunCompletesTheGrid(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2, 3]", 60)
	db := filepath.Join(dir, "results.db")
	first := startHarness(t, "fake,delay=8ms,ledger="+filepath.Join(dir, "ledger1"),
		"run", "--jobs", "2", "--progress", "lines", "--db", db, grid)
	until(t, db, first, "2 runs done and one mid-way past a checkpoint", func(runs []results.Run) bool {
		return count(runs, results.Done, 0) >= 2 && count(runs, results.Running, 10) >= 1
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	before := map[string]results.Run{}
	for _, r := range gridRuns(t, db) {
		before[r.ID] = r
	}

	// The default lease timeout is a minute: finishing well within it shows
	// the rerun saw the killed process was gone.
	start := time.Now()
	second := startHarness(t, "fake,delay=8ms,ledger="+filepath.Join(dir, "ledger2"),
		"run", "--jobs", "2", "--progress", "lines", "--db", db, grid)
	if code := second.exit(t, 30*time.Second); code != exitOK {
		t.Fatalf("rerun exit code %d, want 0; output:\n%s", code, second.output())
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("rerun took %s: it waited for the dead process's leases to expire", took)
	}
	restarted := starts(t, filepath.Join(dir, "ledger2"))
	for _, r := range gridRuns(t, db) {
		old := before[r.ID]
		if r.Status != results.Done {
			t.Fatalf("run %s is %s after the rerun, want done", r.ID[:8], r.Status)
		}
		got := restarted[r.ID]
		switch old.Status {
		case results.Done:
			if len(got) != 0 || r.Attempts != 1 || !r.Finished.Equal(old.Finished) {
				t.Fatalf("run %s was done before the kill but the rerun trained it again (starts %v, attempts %d)", r.ID[:8], got, r.Attempts)
			}
		case results.Running: // expired at once as its holder is dead, then resumed
			if len(got) != 1 || got[0] < old.CheckpointStep || r.Attempts != 2 {
				t.Fatalf("run %s killed at checkpoint %d: rerun starts %v, attempts %d; want one resume from ≥ %d",
					r.ID[:8], old.CheckpointStep, got, r.Attempts, old.CheckpointStep)
			}
		case results.Pending:
			if len(got) != 1 || got[0] != 0 || r.Attempts != 1 {
				t.Fatalf("pending run %s: rerun starts %v, attempts %d; want one fresh start", r.ID[:8], got, r.Attempts)
			}
		}
	}
	if !strings.Contains(second.output(), "(attempt 2, interrupted, checkpoint at step") {
		t.Fatalf("rerun output does not report the takeover:\n%s", second.output())
	}
}

func TestSigintMarksRunsInterrupted(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 400)
	db := filepath.Join(dir, "results.db")
	p := startHarness(t, "fake,delay=5ms", "run", "--jobs", "2", "--progress", "lines", "--db", db, grid)
	until(t, db, p, "2 runs past a checkpoint", func(runs []results.Run) bool { return count(runs, results.Running, 10) == 2 })
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.exit(t, 10*time.Second); code != exitInterrupted {
		t.Fatalf("exit code %d after Ctrl-C, want %d; output:\n%s", code, exitInterrupted, p.output())
	}
	if !strings.Contains(p.output(), "stopping: runs in flight save") {
		t.Fatalf("output:\n%s\nwant it to say it is stopping", p.output())
	}
	runs := gridRuns(t, db)
	if count(runs, results.Interrupted, 10) != 2 || count(runs, results.Pending, results.NoCheckpoint) != 2 || count(runs, results.Running, results.NoCheckpoint) != 0 {
		t.Fatalf("after Ctrl-C: %+v\nwant 2 interrupted with their saved checkpoint and 2 pending", runs)
	}
	for _, r := range runs {
		if r.Status == results.Interrupted && !strings.Contains(r.Error, "interrupted") {
			t.Fatalf("interrupted run error %q, want it to say interrupted", r.Error)
		}
	}
}

func TestSecondSigintExitsAtOnce(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1]", 100000) // never ends by itself
	db := filepath.Join(dir, "results.db")
	// A stubborn trainer ignores cancellation: the first Ctrl-C cannot
	// stop it, the second must.
	p := startHarness(t, "fake,delay=5ms,stubborn", "run", "--jobs", "1", "--progress", "lines", "--db", db, grid)
	until(t, db, p, "a run started", func(runs []results.Run) bool { return count(runs, results.Running, results.NoCheckpoint) == 1 })
	p.cmd.Process.Signal(os.Interrupt)
	time.Sleep(300 * time.Millisecond)
	select {
	case <-p.done:
		t.Fatalf("the stubborn run stopped on the first Ctrl-C; the test does not exercise the second")
	default:
	}
	p.cmd.Process.Signal(os.Interrupt)
	if code := p.exit(t, 3*time.Second); code != exitInterrupted {
		t.Fatalf("exit code %d after a second Ctrl-C, want %d", code, exitInterrupted)
	}
	if !strings.Contains(p.output(), "exiting at once") {
		t.Fatalf("output:\n%s\nwant it to say it exits at once", p.output())
	}
}

func TestTwoProcessesShareAGrid(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2, 3]", 30)
	db := filepath.Join(dir, "results.db")
	var ps []*proc
	for _, name := range []string{"a", "b"} {
		ps = append(ps, startHarness(t, "fake,delay=5ms,ledger="+filepath.Join(dir, "ledger-"+name),
			"run", "--progress", "lines", "--db", db, grid))
	}
	for _, p := range ps {
		if code := p.exit(t, 30*time.Second); code != exitOK {
			t.Fatalf("exit code %d, want 0; output:\n%s", code, p.output())
		}
	}
	seen := map[string]int{}
	for _, name := range []string{"a", "b"} {
		s := starts(t, filepath.Join(dir, "ledger-"+name))
		if len(s) == 0 {
			t.Fatalf("process %s trained nothing; the test did not exercise two processes", name)
		}
		for id, steps := range s {
			seen[id] += len(steps)
		}
	}
	for _, r := range gridRuns(t, db) {
		if r.Status != results.Done || r.Attempts != 1 || seen[r.ID] != 1 {
			t.Fatalf("run %s: %s after %d attempts, started %d times; want done, trained once", r.ID[:8], r.Status, r.Attempts, seen[r.ID])
		}
	}
}

// TestCrashingRunIsQuarantined runs a grid in which one run kills its
// process with SIGABRT (as abort() inside libtorch would) every time it is
// tried: each invocation records the previous one's crash, trains the other
// runs, and the third crash fails the run, so the grid completes after
// --max-attempts + 1 invocations.
func TestCrashingRunIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.toml")
	src := "name = \"cli\"\nseeds = [1, 2, 3, 4]\n[task]\nname = \"sudoku\"\nsize = 4\n" +
		"[train]\nsteps = 40\nlog_every = 5\ncheckpoint_every = 10\n[eval]\nloops = 2\n"
	if err := os.WriteFile(grid, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "results.db")
	var codes []int
	var last *proc
	for i := 1; i <= 4; i++ {
		last = startHarness(t, "fake,delay=5ms,abort=2", "run", "--jobs", "2", "--max-attempts", "3",
			"--progress", "lines", "--db", db, grid)
		code := last.exit(t, 60*time.Second)
		codes = append(codes, code)
		if code == exitFailed || code == exitOK {
			break
		}
		if !strings.Contains(last.output(), "SIGABRT") {
			t.Fatalf("invocation %d exited %d without the abort's crash report:\n%s", i, code, last.output())
		}
	}
	if got := codes[len(codes)-1]; got != exitFailed || len(codes) != 4 {
		t.Fatalf("exit codes %v; want three crashes, then 1 (a run failed) on the 4th invocation; last output:\n%s", codes, last.output())
	}
	byseed := map[int64]results.Run{}
	for _, r := range gridRuns(t, db) {
		byseed[r.Seed] = r
	}
	bad := byseed[2]
	if bad.Status != results.Failed || bad.Crashes != 3 ||
		!strings.HasPrefix(bad.Error, "crashed 3 times: its process crashed: SIGABRT: abort") {
		t.Fatalf("aborting run: %s, %d crashes, error %q; want failed after 3 crashes with the signal named", bad.Status, bad.Crashes, bad.Error)
	}
	for _, seed := range []int64{1, 3, 4} {
		if r := byseed[seed]; r.Status != results.Done {
			t.Fatalf("run of seed %d is %s (%q), want done: one crashing run must not stop the others", seed, r.Status, r.Error)
		}
	}
	if !strings.Contains(last.output(), "crashed 3 times") {
		t.Fatalf("the last invocation does not say why the run failed:\n%s", last.output())
	}
	code, out, _ := cli("ls", "--db", db, "cli")
	if code != exitOK || !strings.Contains(out, "failed") || !strings.Contains(out, "crashed 3 times") {
		t.Fatalf("harness ls: code %d, output:\n%s\nwant the failed run with its message", code, out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "reports", "cli", "index.html"))
	if err != nil || !strings.Contains(string(html), "crashed 3 times: its process crashed: SIGABRT: abort") {
		t.Fatalf("report lacks the failed run's message (%v)", err)
	}
}
