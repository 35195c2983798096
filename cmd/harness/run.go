package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"golang.org/x/term"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/results"
)

// RunCommand trains a grid.
type RunCommand struct {
	stdout, stderr io.Writer

	db           string
	jobs         int
	threads      int
	sets         setFlags
	retryFailed  bool
	maxAttempts  int
	leaseTimeout time.Duration
	runsDir      string
	cacheDir     string
	progress     string
	slurm        slurmFlags
}

func (c *RunCommand) flags() *flag.FlagSet {
	fs := newFlagSet("run")
	fs.StringVar(&c.db, "db", defaultDB, "results database, created on first use")
	fs.IntVar(&c.jobs, "jobs", 0, "runs to train at once (0: one per CPU core for CPU grids, 1 when a run uses a GPU)")
	fs.IntVar(&c.threads, "threads", 0, "libtorch threads per run (0: cores / jobs; a grid's train.threads wins)")
	fs.Var(&c.sets, "set", "override a grid value, typed like the grid file (repeatable): --set train.steps=200")
	fs.BoolVar(&c.retryFailed, "retry-failed", false, "train failed runs again (otherwise they are left failed)")
	fs.IntVar(&c.maxAttempts, "max-attempts", results.DefaultCrashLimit,
		"fail a run after this many attempts crashed its process (segfault, abort, OOM killer) instead of trying it again")
	fs.DurationVar(&c.leaseTimeout, "lease-timeout", harness.DefaultLeaseTimeout,
		"take over a run whose process sent no heartbeat for this long (dead processes on this machine are seen at once)")
	fs.StringVar(&c.runsDir, "runs-dir", "", "per-run folders for checkpoints and artifacts (default: runs/ beside the database)")
	fs.StringVar(&c.cacheDir, "cache-dir", "", "dataset cache (default: cache/ beside the database)")
	fs.StringVar(&c.progress, "progress", "auto", "progress display: live (redrawn in place), lines (one per event), off; auto: live on a terminal")
	c.slurm.register(fs)
	return fs
}

// Usage prints the help.
func (c *RunCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness run [flags] GRID.toml

Run trains every run of the grid that is not done yet and records it in the
results database. Runs are identified by their resolved configuration, so
running the same grid again resumes it: done runs are skipped, interrupted
runs and runs whose process died continue from their last checkpoint, and
failed runs are left alone unless --retry-failed is given.

Ctrl-C stops cleanly: running runs save, flush what they logged and are
marked interrupted; a second Ctrl-C exits at once (kill -9 is safe too: the
next run takes the runs over). Several 'harness run' processes may share one
database and grid; each run is trained by one of them.

A run that fails, produces a NaN loss, panics or raises a libtorch error
(out of memory, a shape error, a CUDA error) is marked failed with its
reason and the others go on; the exit code is then 1. A run whose attempt
kills the whole process (a segfault or abort inside libtorch, the kernel's
OOM killer) is seen by the next 'harness run', which records the crash with
what the crash report says and tries the run again, alone in its process
and after the grid's other runs; after --max-attempts crashes it is marked
failed and left alone unless --retry-failed is given.

With --executor slurm the runs left to do are submitted as one Slurm job
array instead (docs/cluster.md): each task trains one run into its own
shard database beside the main one, and 'harness slurm collect' (or
--wait) merges them. Rerunning submits only what is neither done nor
still queued or running.

Examples:
  harness run ablations/outer-loop.toml
  harness run --jobs 2 ablations/outer-loop.toml
  harness run --set train.steps=50 --set eval.loops=4 ablations/outer-loop.toml   # a quick smoke test
  harness run --retry-failed --db /scratch/me/outer.db ablations/outer-loop.toml
  harness run --executor slurm --partition gpu --time 4:00:00 --array-parallelism 8 --db /shared/me/outer.db ablations/outer-loop.toml
`)
}

// Run trains the grid named by args.
func (c *RunCommand) Run(ctx context.Context, args []string) error {
	fs := c.flags()
	pos, err := parseFlags(fs, args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInputf("run: want one grid file, got %d arguments\nrun 'harness run --help' for usage", len(pos))
	}
	if err := c.slurm.check(fs); err != nil {
		return err
	}
	if c.jobs < 0 || c.threads < 0 || c.leaseTimeout <= 0 || c.maxAttempts < 1 {
		return badInputf("run: --jobs and --threads must be ≥ 0, --lease-timeout > 0 and --max-attempts ≥ 1")
	}
	g, runs, err := loadGrid(pos[0], c.sets)
	if err != nil {
		return err
	}
	if c.slurm.executor == "slurm" {
		return c.runSlurm(ctx, g, runs)
	}
	trainer, err := newTrainer()
	if err != nil {
		return err
	}
	if c.jobs == 0 {
		c.jobs = defaultJobs(runs)
	}
	store, err := openStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	store.CrashLimit = c.maxAttempts
	obs, closeObs, err := c.observer()
	if err != nil {
		return err
	}
	base := filepath.Dir(c.db)
	sched := &harness.Scheduler{Store: store, Trainer: trainer, Jobs: c.jobs, Threads: c.threads,
		LeaseTimeout: c.leaseTimeout, RetryFailed: c.retryFailed, Events: obs,
		ThreadPool: os.Getenv(threadPoolVar),
		RunsDir:    orDefault(c.runsDir, filepath.Join(base, "runs")), CacheDir: orDefault(c.cacheDir, filepath.Join(base, "cache"))}
	sum, err := sched.Run(ctx, g, runs)
	closeObs()
	c.summarize(g, sum)
	// The report is refreshed whenever the grid was run to its end, failed
	// runs included (they are listed in it); an interrupted grid has none.
	if ctx.Err() == nil {
		path, rep, rerr := writeGridReport(ctx, store, g, c.db)
		if rerr != nil {
			return errors.Join(err, fmt.Errorf("write report: %w", rerr))
		}
		printVerdicts(c.stdout, path, rep)
	}
	return err
}

// defaultJobs is one run per core on CPU: the CPU-scale models are too
// small for libtorch's intra-op threads to pay (two threads on one 4×4
// Sudoku run were slower than one, and spin-waiting OpenMP threads collapse
// under oversubscription), so cores are better spent on separate runs. A
// grid with a GPU run trains one run at a time.
func defaultJobs(runs []experiments.RunSpec) int {
	for _, r := range runs {
		if r.Train.Device.IsCUDA() {
			return 1
		}
	}
	return max(1, min(runtime.NumCPU(), len(runs)))
}

// loadGrid loads and expands a grid file; its errors are bad input.
func loadGrid(path string, sets []string) (*experiments.Grid, []experiments.RunSpec, error) {
	g, err := experiments.Load(path, sets)
	if err != nil {
		return nil, nil, badInput(err)
	}
	runs, err := g.Expand()
	if err != nil {
		return nil, nil, badInput(err)
	}
	return g, runs, nil
}

func orDefault(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// observer picks the progress display. Progress goes to stderr so stdout
// keeps only the summary.
func (c *RunCommand) observer() (harness.EventSink, func(), error) {
	f, isFile := c.stderr.(*os.File)
	tty := isFile && term.IsTerminal(int(f.Fd()))
	mode := c.progress
	if mode == "auto" {
		mode = map[bool]string{true: "live", false: "lines"}[tty]
	}
	switch mode {
	case "live":
		width := func() int {
			if tty {
				if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
					return w
				}
			}
			return 100
		}
		v := harness.NewLiveView(c.stderr, width)
		return v, v.Close, nil
	case "lines":
		return harness.NewLinePrinter(c.stderr), func() {}, nil
	case "off":
		return harness.Tee(), func() {}, nil
	}
	return nil, nil, badInputf("run: --progress %q: want auto, live, lines or off", c.progress)
}

// summarize prints where the grid stands and why runs failed.
func (c *RunCommand) summarize(g *experiments.Grid, sum harness.Summary) {
	if sum.Total == 0 {
		return
	}
	var parts []string
	for _, st := range []results.Status{results.Done, results.Failed, results.Interrupted, results.Running, results.Pending} {
		if n := sum.Final[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
		}
	}
	trained := 0
	for _, n := range sum.Trained {
		trained += n
	}
	fmt.Fprintf(c.stdout, "grid %s: %d runs: %s (%d attempts this time)\n", g.Name, sum.Total, strings.Join(parts, ", "), trained)
	for _, f := range sum.Failures {
		first, _, _ := strings.Cut(f.Err, "\n")
		fmt.Fprintf(c.stdout, "  failed %s %s: %s\n", experiments.ShortID(f.Run), f.Label, first)
	}
	if len(sum.Failures) > 0 {
		fmt.Fprintln(c.stdout, "  (full errors: harness show RUN; train them again: harness run --retry-failed)")
	}
}

// threadPoolVar names the folder through which runs on this host share its
// cores (harness.Scheduler.ThreadPool): unset for the default, "off" to let
// each run take cores / jobs threads regardless of other processes. Tests
// point it at a folder of their own.
const threadPoolVar = "OUTERLOOP_THREAD_POOL"
