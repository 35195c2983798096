package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"outerloop/results"
)

// These tests submit grids to a real Slurm: a single-node cluster that
// setup/slurm/start.sh starts in a temporary folder (installing Debian's
// slurm-wlm and munge first if they are missing, which needs root) and
// stop.sh ends by pid. Array tasks run the harnesstest binary.

// slurmTestEnv opts in to the tests; `just test-slurm` sets it.
const slurmTestEnv = "OUTERLOOP_SLURM_TEST"

// startSlurm starts a cluster for the test and points SLURM_CONF at it.
func startSlurm(t *testing.T) {
	t.Helper()
	if os.Getenv(slurmTestEnv) == "" {
		t.Skipf("starts a real single-node Slurm (and installs slurm-wlm and munge if missing, as root): set %s=1 or run `just test-slurm`", slurmTestEnv)
	}
	if testing.Short() {
		t.Skip("starts a Slurm cluster")
	}
	dir := t.TempDir()
	start := time.Now()
	out, err := exec.Command("../../setup/slurm/start.sh", dir).CombinedOutput()
	t.Cleanup(func() {
		if out, err := exec.Command("../../setup/slurm/stop.sh", dir).CombinedOutput(); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
	})
	if err != nil {
		logs, _ := exec.Command("sh", "-c", "tail -n 20 "+dir+"/log/*").CombinedOutput()
		t.Fatalf("setup/slurm/start.sh %s: %v\n%s\nlogs:\n%s", dir, err, out, logs)
	}
	t.Setenv("SLURM_CONF", filepath.Join(dir, "slurm.conf"))
	t.Logf("slurm up in %s", time.Since(start).Round(10*time.Millisecond))
}

// slurmCmd runs a Slurm client command and returns its output.
func slurmCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitFor polls cond every 200 ms until it holds.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; squeue:\n%s", timeout, what, slurmCmd(t, "squeue", "--array"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// submitted reads the job id and submission folder from run's output.
func submitted(t *testing.T, out string) (job, dir string) {
	t.Helper()
	m := regexp.MustCompile(`submitted job (\d+)`).FindStringSubmatch(out)
	d := regexp.MustCompile(`script (\S+)/job\.sh`).FindStringSubmatch(out)
	if m == nil || d == nil {
		t.Fatalf("run printed no job id and script:\n%s", out)
	}
	return m[1], d[1]
}

// runSlurm runs `harness run --executor slurm` to its end.
func runSlurm(t *testing.T, trainer string, timeout time.Duration, args ...string) (int, string) {
	t.Helper()
	p := startHarness(t, trainer, append([]string{"run", "--executor", "slurm", "--cpus-per-task", "1"}, args...)...)
	code := p.exit(t, timeout)
	return code, p.output()
}

func TestSlurmArrayTrainsEveryRunOnce(t *testing.T) {
	startSlurm(t)
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2, 3]", 30)
	db := filepath.Join(dir, "results.db")
	ledger := filepath.Join(dir, "ledger")
	trainer := "fake,delay=20ms,ledger=" + ledger

	start := time.Now()
	code, out := runSlurm(t, trainer, 2*time.Minute, "--array-parallelism", "2", "--wait", "--db", db, grid)
	t.Logf("6-run array with %%2, submitted and merged in %s", time.Since(start).Round(100*time.Millisecond))
	if code != exitOK || !strings.Contains(out, "grid cli: 6 runs: 6 done") {
		t.Fatalf("run --executor slurm --wait: code %d, want 0 and 6 done; output:\n%s", code, out)
	}
	job, sub := submitted(t, out)
	script, err := os.ReadFile(filepath.Join(sub, "job.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-5%2", "#SBATCH --cpus-per-task=1", "#SBATCH --requeue", "#SBATCH --signal=B:USR1@60", "run-one --requeue"} {
		if !strings.Contains(string(script), want) {
			t.Fatalf("job.sh lacks %q:\n%s", want, script)
		}
	}
	runs := gridRuns(t, db)
	began := starts(t, ledger)
	for _, r := range runs {
		if r.Status != results.Done || r.Attempts != 1 || len(began[r.ID]) != 1 {
			t.Fatalf("run %s: %s after %d attempts, started %d times; want done, trained once", r.ID[:8], r.Status, r.Attempts, len(began[r.ID]))
		}
	}
	if len(runs) != 6 || len(began) != 6 {
		t.Fatalf("%d runs in the database and %d trained, want 6 and 6", len(runs), len(began))
	}
	if n := maxOverlap(runs); n > 2 {
		t.Fatalf("%d runs trained at once, want at most 2 (--array-parallelism 2)", n)
	}
	threads := lastMetric(t, db, runs[0].ID, "threads")
	if threads != 1 {
		t.Fatalf("a task trained with %v threads, want 1 (--cpus-per-task 1)", threads)
	}

	// Nothing is left: a second submission submits nothing, a second
	// collect merges nothing new.
	code, out = runSlurm(t, trainer, time.Minute, "--db", db, grid)
	if code != exitOK || !strings.Contains(out, "6 done") || !strings.Contains(out, "nothing to submit") {
		t.Fatalf("second run: code %d, want 0 and nothing to submit; output:\n%s", code, out)
	}
	code, out, _ = cli("slurm", "collect", "--db", db, job)
	if code != exitOK || !strings.Contains(out, "nothing to collect") {
		t.Fatalf("collect of a collected job: code %d, output %q; want nothing to collect", code, out)
	}
}

func TestSlurmWarningSignalRequeuesAndResumes(t *testing.T) {
	startSlurm(t)
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1]", 300) // 2 runs of 300 steps, 6 s each
	db := filepath.Join(dir, "results.db")
	ledger := filepath.Join(dir, "ledger")
	trainer := "fake,delay=20ms,ledger=" + ledger
	code, out := runSlurm(t, trainer, time.Minute, "--db", db, grid)
	if code != exitOK {
		t.Fatalf("submit: code %d; output:\n%s", code, out)
	}
	job, sub := submitted(t, out)
	shard := filepath.Join(sub, "shard-"+job+"-0.db")
	var before results.Run
	waitFor(t, time.Minute, "task 0 past its checkpoint at step 20", func() bool {
		before = shardRun(t, shard)
		return before.CheckpointStep >= 20
	})
	// Task 1 may have ended already (the cluster may start it first, or
	// run the tasks one after the other on a busy machine); task 0 has not.
	code, out = runSlurm(t, trainer, time.Minute, "--db", db, grid)
	if code != exitOK || !regexp.MustCompile(`[01] done, [12] queued or running`).MatchString(out) || !strings.Contains(out, "nothing to submit") {
		t.Fatalf("submitting while the array runs: code %d, want nothing submitted; output:\n%s", code, out)
	}

	// Slurm's warning, as --signal=B:USR1@60 sends it before the time
	// limit. scancel waits for the signalled job to settle and, since the
	// task requeues itself at once, retries for a minute and a half before
	// it gives up ("Job is in transitional state"); the signal is delivered
	// first, so the test does not wait for scancel.
	warn := exec.Command("scancel", "--batch", "--signal=USR1", job+"_0")
	if err := warn.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { warn.Process.Kill(); warn.Wait() }()
	waitFor(t, 30*time.Second, "task 0 requeued", func() bool {
		return strings.Contains(slurmCmd(t, "squeue", "--noheader", "--array", "--jobs="+job, "--format=%i %T"), job+"_0 PENDING")
	})
	stopped := shardRun(t, shard)
	if stopped.Status != results.Interrupted || stopped.CheckpointStep < before.CheckpointStep {
		t.Fatalf("after SIGUSR1 the run is %s at checkpoint %d; want interrupted at ≥ %d", stopped.Status, stopped.CheckpointStep, before.CheckpointStep)
	}
	if code, out, _ := cli("ls", "--db", db, "cli"); code != exitOK || !regexpLine(out, `\srequeued\s+`+job+`_0\s`) {
		t.Fatalf("ls while task 0 waits to be requeued: code %d\n%s\nwant it shown requeued", code, out)
	}
	// Slurm holds a requeued job for about two minutes before it may
	// start again; make it eligible now, as an administrator could.
	slurmCmd(t, "scontrol", "update", "JobId="+job+"_0", "StartTime=now")
	waitFor(t, time.Minute, "the array to end", func() bool {
		return strings.TrimSpace(slurmCmd(t, "squeue", "--noheader", "--array", "--jobs="+job)) == ""
	})

	code, out, _ = cli("slurm", "collect", "--db", db, job)
	if code != exitOK || !regexp.MustCompile(`merged [12] shards`).MatchString(out) || !strings.Contains(out, "job "+job+" ended and is merged") {
		t.Fatalf("collect: code %d, output:\n%s", code, out)
	}
	runs := gridRuns(t, db)
	began := starts(t, ledger)
	id := shardRun(t, shard).ID
	for _, r := range runs {
		want := []int{0}
		if r.ID == id {
			want = []int{0, stopped.CheckpointStep}
		}
		if r.Status != results.Done || r.Attempts != len(want) || fmt.Sprint(began[r.ID]) != fmt.Sprint(want) {
			t.Fatalf("run %s: %s after %d attempts, started from steps %v; want done, started from %v", r.ID[:8], r.Status, r.Attempts, began[r.ID], want)
		}
	}
	// The resumed run's curve has both attempts: every logged step once.
	if n := countMetric(t, db, id, "loss"); n != 300/5 {
		t.Fatalf("the resumed run has %d loss values, want %d (every 5th of 300 steps)", n, 300/5)
	}
	log, err := os.ReadFile(filepath.Join(sub, "log-"+job+"-0.out"))
	if err != nil || !strings.Contains(string(log), "requeued array task "+job+"_0") {
		t.Fatalf("task 0's log (%v):\n%s\nwant it to say it requeued itself", err, log)
	}
}

func TestSlurmRetryFailedResubmitsOnlyFailedRuns(t *testing.T) {
	startSlurm(t)
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 40) // seed 2 fails at step 20, after its checkpoint at 10
	db := filepath.Join(dir, "results.db")
	ledger := filepath.Join(dir, "ledger")
	code, out := runSlurm(t, "fake,delay=10ms,fail=2,ledger="+ledger, 2*time.Minute, "--wait", "--db", db, grid)
	if code != exitFailed || !strings.Contains(out, "2 done, 2 failed") {
		t.Fatalf("first array: code %d, want 1 with 2 done and 2 failed; output:\n%s", code, out)
	}
	code, out = runSlurm(t, "fake,delay=10ms,ledger="+ledger, 2*time.Minute, "--wait", "--db", db, grid)
	if code != exitFailed || !strings.Contains(out, "nothing to submit") {
		t.Fatalf("rerun without --retry-failed: code %d, want 1 and nothing submitted; output:\n%s", code, out)
	}
	code, out = runSlurm(t, "fake,delay=10ms,ledger="+ledger, 2*time.Minute, "--retry-failed", "--wait", "--db", db, grid)
	if code != exitOK || !strings.Contains(out, "2 to submit") || !strings.Contains(out, "array 0-1,") {
		t.Fatalf("--retry-failed: code %d, want 0 and only the 2 failed runs submitted; output:\n%s", code, out)
	}
	began := starts(t, ledger)
	for _, r := range gridRuns(t, db) {
		if r.Seed == 1 && (r.Attempts != 1 || fmt.Sprint(began[r.ID]) != "[0]") {
			t.Fatalf("done run %s was trained again: attempts %d, starts %v", r.ID[:8], r.Attempts, began[r.ID])
		}
		if r.Seed != 2 {
			continue
		}
		if r.Status != results.Done || r.Attempts != 2 || fmt.Sprint(began[r.ID]) != "[0 10]" {
			t.Fatalf("retried run %s: %s after %d attempts, starts %v; want done, resumed from its checkpoint at 10", r.ID[:8], r.Status, r.Attempts, began[r.ID])
		}
		// The first attempt's steps came with the run's seed database.
		if n := countMetric(t, db, r.ID, "loss"); n != 40/5 {
			t.Fatalf("retried run %s has %d loss values, want %d: the first attempt's are lost", r.ID[:8], n, 40/5)
		}
	}
}

func TestSlurmCollectSettlesKilledAndCancelledTasks(t *testing.T) {
	startSlurm(t)
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 200) // 4 runs of 4 s, one at a time
	db := filepath.Join(dir, "results.db")
	ledger := filepath.Join(dir, "ledger")
	trainer := "fake,delay=20ms,ledger=" + ledger
	code, out := runSlurm(t, trainer, time.Minute, "--array-parallelism", "1", "--db", db, grid)
	if code != exitOK {
		t.Fatalf("submit: code %d; output:\n%s", code, out)
	}
	job, sub := submitted(t, out)
	shard := func(i int) string { return filepath.Join(sub, fmt.Sprintf("shard-%s-%d.db", job, i)) }
	var first results.Run
	waitFor(t, time.Minute, "task 0 past a checkpoint", func() bool {
		first = shardRun(t, shard(0))
		return first.CheckpointStep >= 20
	})
	// Task 0 dies without a chance to save, as under the OOM killer or a
	// node failure (Slurm's own kills send SIGTERM first): SIGKILL to the
	// pid its lease names, "host/pid/nonce/w1". Task 1 is cancelled
	// mid-run (SIGTERM: it saves); tasks 2 and 3 before they start.
	pid, err := strconv.Atoi(strings.Split(first.LeaseOwner, "/")[1])
	if err != nil {
		t.Fatalf("lease owner %q names no pid", first.LeaseOwner)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "task 1 past a checkpoint", func() bool { return shardRun(t, shard(1)).CheckpointStep >= 20 })
	slurmCmd(t, "scancel", job)
	waitFor(t, time.Minute, "the array to end", func() bool {
		return strings.TrimSpace(slurmCmd(t, "squeue", "--noheader", "--array", "--jobs="+job)) == ""
	})
	killed := shardRun(t, shard(0))
	if killed.Status != results.Running {
		t.Fatalf("task 0's shard says %s after SIGKILL, want running (it could not record anything)", killed.Status)
	}
	code, out, _ = cli("ls", "--db", db, "cli")
	for _, want := range []string{`\sinterrupted\s+` + job + `_0\s`, `\sinterrupted\s+` + job + `_1\s`, `\slost\s+` + job + `_2\s`, `\slost\s+` + job + `_3\s`} {
		if code != exitOK || !regexpLine(out, want) {
			t.Fatalf("ls after the cancel: code %d\n%s\nwant a line matching %s", code, out, want)
		}
	}
	code, out, _ = cli("slurm", "collect", "--db", db)
	for _, want := range []string{"merged 2 shards", "1 runs were left running by killed tasks", "task " + job + "_2 ", "task " + job + "_3 ", "job " + job + " ended"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Fatalf("collect: code %d, output:\n%s\nwant %q", code, out, want)
		}
	}
	runs := gridRuns(t, db)
	want := []results.Status{results.Interrupted, results.Interrupted, results.Failed, results.Failed}
	for i, r := range runs {
		if r.Status != want[i] {
			t.Fatalf("run %d is %s after collect, want %s", i, r.Status, want[i])
		}
		if r.Status == results.Failed && !strings.Contains(r.Error, fmt.Sprintf("log-%s-%d.out", job, i)) {
			t.Fatalf("lost run %d's error %q does not point at its task's log", i, r.Error)
		}
	}

	code, out = runSlurm(t, trainer, 2*time.Minute, "--retry-failed", "--wait", "--db", db, grid)
	if code != exitOK || !strings.Contains(out, "4 to submit") || !strings.Contains(out, "4 done") {
		t.Fatalf("resubmitting: code %d, want 0 and 4 runs done; output:\n%s", code, out)
	}
	began := starts(t, ledger)
	for i, r := range gridRuns(t, db) {
		got := began[r.ID]
		resumed := len(got) == 2 && got[0] == 0 && got[1] > 0
		fresh := len(got) == 1 && got[0] == 0
		if (i < 2 && !resumed) || (i >= 2 && !fresh) {
			t.Fatalf("run %d started from steps %v; want runs 0 and 1 (killed, cancelled) resumed from a checkpoint, 2 and 3 (never started) trained once", i, got)
		}
		if n := countMetric(t, db, r.ID, "loss"); n != 200/5 {
			t.Fatalf("run %d has %d loss values, want %d", i, n, 200/5)
		}
	}
}

// shardRun reads the one run of a task's shard once the task created it.
func shardRun(t *testing.T, path string) results.Run {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return results.Run{CheckpointStep: results.NoCheckpoint}
	}
	runs := gridRuns(t, path)
	if len(runs) != 1 {
		return results.Run{CheckpointStep: results.NoCheckpoint}
	}
	return runs[0]
}

func countMetric(t *testing.T, db, id, name string) int {
	t.Helper()
	return len(metrics(t, db, id, name))
}

func lastMetric(t *testing.T, db, id, name string) float64 {
	t.Helper()
	ms := metrics(t, db, id, name)
	if len(ms) == 0 {
		t.Fatalf("run %s has no %s metric", id[:8], name)
	}
	return ms[len(ms)-1].Value
}

func metrics(t *testing.T, db, id, name string) []results.Metric {
	t.Helper()
	s, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Metrics(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []results.Metric
	for _, m := range all {
		if m.Name == name {
			out = append(out, m)
		}
	}
	return out
}

// maxOverlap is the most runs whose started..finished spans overlap.
func maxOverlap(runs []results.Run) int {
	most := 0
	for _, a := range runs {
		n := 0
		for _, b := range runs {
			if !b.Started.After(a.Started) && b.Finished.After(a.Started) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}
