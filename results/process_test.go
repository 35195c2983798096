package results

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run real OS processes on one database file: the test binary
// re-executes itself with RESULTS_HELPER naming a helper role (see
// TestMain), which is the only way to show that SQLite locking, not Go
// synchronisation, keeps two claimants apart.

const helperEnv = "RESULTS_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(role); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper is the child side. Its environment carries the database path,
// the lease owner, a barrier file to wait for and the run ids.
func runHelper(role string) error {
	ctx := context.Background()
	waitFor(os.Getenv("RESULTS_BARRIER"))
	s, err := Open(ctx, os.Getenv("RESULTS_DB"))
	if err != nil {
		return err
	}
	defer s.Close()
	owner := os.Getenv("RESULTS_OWNER")
	ids := strings.Fields(os.Getenv("RESULTS_IDS"))
	switch role {
	case "open":
		return nil
	case "worker":
		// Claim, "train" (write a batch, take a little time) and finish
		// until nothing is left.
		for {
			l, err := s.Claim(ctx, owner, ids, time.Minute)
			if errors.Is(err, ErrNoRun) {
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Printf("claimed %s\n", l.Run.ID)
			time.Sleep(5 * time.Millisecond)
			if err := l.Write(ctx, Batch{Metrics: []Metric{{Step: 1, Name: "owner_pid", Value: float64(os.Getpid())}}, Checkpoint: 1}); err != nil {
				return err
			}
			if err := l.Finish(ctx, Outcome{Status: Done}); err != nil {
				return err
			}
		}
	case "holder":
		// Claim one run and keep it alive with heartbeats until killed.
		l, err := s.Claim(ctx, owner, ids, time.Minute)
		if err != nil {
			return err
		}
		fmt.Printf("claimed %s\n", l.Run.ID)
		for {
			time.Sleep(20 * time.Millisecond)
			if err := l.Heartbeat(ctx); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown helper role %q", role)
}

// waitFor polls until path exists ("" = no barrier), so children started
// one after another begin their work at the same moment.
func waitFor(path string) {
	for path != "" {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// helper is a started child process and its stdout lines.
type helper struct {
	cmd   *exec.Cmd
	lines chan string
	wg    sync.WaitGroup
	out   []string
}

func startHelper(t *testing.T, role, db, owner, barrier string, runIDs []string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "RESULTS_DB="+db, "RESULTS_OWNER="+owner,
		"RESULTS_BARRIER="+barrier, "RESULTS_IDS="+strings.Join(runIDs, " "))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, lines: make(chan string, 1000)}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer close(h.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return h
}

// wait waits for the child to exit and returns everything it printed.
func (h *helper) wait(t *testing.T) []string {
	t.Helper()
	var out []string
	for l := range h.lines {
		out = append(out, l)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper %v: %v", h.cmd.Env[len(h.cmd.Env)-5:], err)
	}
	return out
}

func TestLeasesTwoProcessesNeverShareARun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "results.db")
	s := MustOpenStoreAt(t, db)
	runs := testRuns(40)
	MustPlan(t, s, runs)
	barrier := filepath.Join(dir, "go")
	a := startHelper(t, "worker", db, "proc-a", barrier, ids(runs))
	b := startHelper(t, "worker", db, "proc-b", barrier, ids(runs))
	if err := os.WriteFile(barrier, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	claims := map[string][]string{}
	for owner, h := range map[string]*helper{"proc-a": a, "proc-b": b} {
		lines := h.wait(t)
		if len(lines) == 0 {
			t.Fatalf("%s claimed no run; the test did not exercise two claimants", owner)
		}
		for _, l := range lines {
			id := strings.TrimPrefix(l, "claimed ")
			claims[id] = append(claims[id], owner)
		}
	}
	for _, r := range runs {
		if got := claims[r.ID]; len(got) != 1 {
			t.Fatalf("run %s claimed by %v, want exactly one process", r.ID[:8], got)
		}
	}
	got, err := s.GridRuns(context.Background(), "g")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range got {
		if r.Status != Done || r.Attempts != 1 {
			t.Fatalf("run %s: status %s after %d attempts, want done after 1", r.ID[:8], r.Status, r.Attempts)
		}
	}
}

func TestLeaseOfKilledProcessIsTakenOver(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "results.db")
	s := MustOpenStoreAt(t, db)
	runs := testRuns(1)
	MustPlan(t, s, runs)
	h := startHelper(t, "holder", db, "holder", "", ids(runs))
	select {
	case l := <-h.lines:
		if l != "claimed "+runs[0].ID {
			t.Fatalf("holder printed %q, want it to claim the run", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("holder did not claim the run")
	}
	const expiry = 200 * time.Millisecond
	// Longer than the expiry: only the holder's heartbeats keep the lease.
	time.Sleep(2 * expiry)
	if _, err := s.Claim(ctx, "me", ids(runs), expiry); !errors.Is(err, ErrNoRun) {
		t.Fatalf("Claim while the holder heart-beats err=%v, want ErrNoRun", err)
	}
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.cmd.Wait()
	time.Sleep(2 * expiry)
	l, err := s.Claim(ctx, "me", ids(runs), expiry)
	if err != nil {
		t.Fatalf("Claim after the holder died: %v", err)
	}
	if l.Run.LeaseOwner != "holder" || l.Run.Status != Running {
		t.Fatalf("taken-over run was %s held by %q, want running held by holder", l.Run.Status, l.Run.LeaseOwner)
	}
}

func TestConcurrentOpenOfFreshFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "fresh.db")
	barrier := filepath.Join(dir, "go")
	var hs []*helper
	for i := range 4 {
		hs = append(hs, startHelper(t, "open", db, fmt.Sprint(i), barrier, nil))
	}
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(barrier, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		h.wait(t)
	}
	s := MustOpenStoreAt(t, db)
	var n int
	if err := s.db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) {
		t.Fatalf("schema_migrations rows=%d after 4 concurrent opens, want %d", n, len(migrations))
	}
}
