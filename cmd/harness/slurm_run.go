package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"outerloop/experiments"
	"outerloop/harness/slurm"
)

// slurmFlags are `harness run`'s flags for the Slurm executor.
type slurmFlags struct {
	executor    string
	partition   string
	parallelism int
	time        string
	gpus        int
	cpus        int
	sbatchArgs  stringsFlag
	wait        bool
}

// slurmOnly are the flags that mean nothing to the local executor, and
// localOnly the reverse; mixing them is refused rather than ignored.
var (
	slurmOnly = []string{"partition", "array-parallelism", "time", "gpus-per-run", "cpus-per-task", "sbatch-arg", "wait"}
	localOnly = []string{"jobs", "threads", "lease-timeout"}
)

func (f *slurmFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.executor, "executor", "local", "where runs train: local (this machine) or slurm (one job array; see 'Running on a cluster' in docs/cluster.md)")
	fs.StringVar(&f.partition, "partition", "", "slurm: partition (default: the cluster's)")
	fs.IntVar(&f.parallelism, "array-parallelism", 0, "slurm: at most this many array tasks at once (the %K of --array; 0: no limit)")
	fs.StringVar(&f.time, "time", "", "slurm: time limit per task, as sbatch --time (\"4:00:00\"); a task saves and requeues itself a minute before it")
	fs.IntVar(&f.gpus, "gpus-per-run", 0, "slurm: --gpus-per-task (0: one when the grid trains on cuda, else none)")
	fs.IntVar(&f.cpus, "cpus-per-task", slurm.DefaultCPUsPerTask, "slurm: CPUs per task, which is each run's thread budget")
	fs.Var(&f.sbatchArgs, "sbatch-arg", "slurm: extra sbatch option, repeatable: --sbatch-arg=--account=lab --sbatch-arg=--qos=high")
	fs.BoolVar(&f.wait, "wait", false, "slurm: follow the array until it ends, then merge its shards (otherwise print the job id and return)")
}

// check refuses flags of the other executor.
func (f *slurmFlags) check(fs *flag.FlagSet) error {
	var wrong []string
	fs.Visit(func(fl *flag.Flag) {
		if (f.executor == "slurm" && slices.Contains(localOnly, fl.Name)) || (f.executor != "slurm" && slices.Contains(slurmOnly, fl.Name)) {
			wrong = append(wrong, "--"+fl.Name)
		}
	})
	switch {
	case f.executor != "local" && f.executor != "slurm":
		return badInputf("run: --executor %q: want local or slurm", f.executor)
	case len(wrong) > 0 && f.executor == "slurm":
		return badInputf("run: %s: not for --executor slurm (use --array-parallelism and --cpus-per-task)", strings.Join(wrong, ", "))
	case len(wrong) > 0:
		return badInputf("run: %s: only with --executor slurm", strings.Join(wrong, ", "))
	case f.parallelism < 0 || f.gpus < 0 || f.cpus < 1:
		return badInputf("run: --array-parallelism and --gpus-per-run must be ≥ 0, --cpus-per-task ≥ 1")
	}
	return nil
}

// runSlurm submits the grid as one job array and, with --wait, follows it.
func (c *RunCommand) runSlurm(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the harness binary for the batch script: %w", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("find the working directory: %w", err)
	}
	store, err := openStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	base := filepath.Dir(c.db)
	f := &c.slurm
	e := &slurm.Executor{Store: store, Dir: slurm.DefaultDir(c.db), RetryFailed: c.retryFailed,
		RunsDir: orDefault(c.runsDir, filepath.Join(base, "runs")), CacheDir: orDefault(c.cacheDir, filepath.Join(base, "cache")),
		Options: slurm.Options{Partition: f.partition, ArrayParallelism: f.parallelism, Time: f.time,
			CPUsPerTask: f.cpus, GPUsPerRun: f.gpus, SbatchArgs: f.sbatchArgs, Harness: exe, WorkDir: wd}}
	sub, err := e.Submit(ctx, g, runs)
	if sub != nil {
		printCollect(c.stdout, sub.Collected)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "grid %s: %d runs: %d done, %d queued or running, %d failed%s, %d to submit\n",
		g.Name, sub.Total, sub.Done, sub.InFlight, sub.Failed, map[bool]string{true: "", false: " (--retry-failed submits them)"}[sub.Failed == 0], sub.Runs)
	if sub.Job == "" {
		fmt.Fprintln(c.stdout, "nothing to submit")
		_, err := e.Summary(ctx, sub) // failed runs left make exit code 1, as with the local executor
		return err
	}
	fmt.Fprintf(c.stdout, "submitted job %s: array %s, %d CPUs and %d GPUs per task\n", sub.Job, sub.Array, f.cpus, sub.GPUs)
	fmt.Fprintf(c.stdout, "  script %s\n  logs   %s\n",
		filepath.Join(sub.Dir, "job.sh"), filepath.Join(sub.Dir, "log-"+sub.Job+"-*.out"))
	if !f.wait {
		fmt.Fprintf(c.stdout, "follow it with 'squeue -j %s' or 'harness ls %s'; merge it with 'harness slurm collect %s'\n",
			sub.Job, g.Name, sub.Job)
		return nil
	}
	rep, err := e.Wait(ctx, sub, func(p slurm.ArrayProgress) {
		fmt.Fprintf(c.stderr, "job %s: %d queued, %d running, %d ended of %d\n", p.Job, p.Pending, p.Running, p.Ended, p.Total)
	})
	printCollect(c.stdout, rep)
	if err != nil {
		return err
	}
	sum, err := e.Summary(ctx, sub)
	c.summarize(g, sum)
	return err
}

// printCollect reports what a collect merged and decided.
func printCollect(w io.Writer, rep slurm.CollectReport) {
	added, updated := 0, 0
	for _, st := range rep.Merged {
		added += st.Added
		updated += st.Updated
	}
	if len(rep.Merged) > 0 {
		fmt.Fprintf(w, "merged %d shards: %d runs added, %d updated\n", len(rep.Merged), added, updated)
	}
	if rep.Active > 0 {
		fmt.Fprintf(w, "left %d shards of tasks still queued or running for later\n", rep.Active)
	}
	if rep.Interrupted > 0 {
		fmt.Fprintf(w, "%d runs were left running by killed tasks: marked interrupted (a new submission resumes them)\n", rep.Interrupted)
	}
	for _, l := range rep.Lost {
		fmt.Fprintf(w, "task %s ended without recording its run: marked failed\n", l)
	}
	if len(rep.Jobs) > 0 {
		fmt.Fprintf(w, "job %s ended and is merged\n", strings.Join(rep.Jobs, ", "))
	}
}

// stringsFlag collects a repeated flag's values.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, " ") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}
