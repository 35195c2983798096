package slurm

import (
	"fmt"
	"strings"
	"time"
)

// Options are the resources and settings of a Slurm submission.
type Options struct {
	Partition string // --partition; "" uses the cluster's default
	// ArrayParallelism caps how many tasks run at once (the %K of
	// --array); 0 lets Slurm run them all.
	ArrayParallelism int
	Time             string // --time per task, in Slurm's syntax ("4:00:00"); "" is the partition's limit
	CPUsPerTask      int    // --cpus-per-task; each task's thread budget
	// GPUsPerRun is --gpus-per-task. 0 asks for 1 when a listed run has
	// train.device cuda and for none otherwise.
	GPUsPerRun int
	// SbatchArgs are extra sbatch options (--account=x, --qos=y), written
	// after the harness's own so they can override them.
	SbatchArgs []string
	// Harness is the harness binary the tasks run; it must be reachable at
	// that path on the compute nodes.
	Harness string
	// WorkDir is the folder the tasks start in (relative grid paths).
	WorkDir string
}

// WarningSeconds is how long before a task's time limit Slurm sends it
// SIGUSR1 (--signal=B:USR1@60): a minute to save a checkpoint and requeue.
const WarningSeconds = 60

// DefaultCPUsPerTask is --cpus-per-task when none is given.
const DefaultCPUsPerTask = 4

// BatchScript renders the array job's batch script. Options are #SBATCH
// lines so that the file alone resubmits the same array (`sbatch job.sh`).
func BatchScript(o Options, l *RunList, dir string, gpus int) string {
	var b strings.Builder
	n := len(l.Runs)
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# outerloop grid %q: %d runs, written by `harness run --executor slurm` on %s.\n",
		l.Grid.Name, n, time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "# Array task i trains run i of %s/%s into its own shard database;\n", dir, listFile)
	fmt.Fprintf(&b, "# `harness slurm collect JOBID --db %s` merges the shards.\n", l.DB)
	fmt.Fprintf(&b, "# On SIGUSR1 (%d s before the time limit) a task checkpoints and requeues\n", WarningSeconds)
	fmt.Fprintf(&b, "# itself; requeued, it resumes from its checkpoint in %s.\n", l.RunsDir)
	fmt.Fprintf(&b, "# To submit it again by hand: sbatch %s/%s\n", dir, scriptFile)
	sb := func(format string, args ...any) { fmt.Fprintf(&b, "#SBATCH "+format+"\n", args...) }
	sb("--job-name=outerloop-%s", l.Grid.Name)
	sb("--array=%s", arrayRange(n, o.ArrayParallelism))
	sb("--output=%s/log-%%A-%%a.out", dir)
	sb("--open-mode=append")
	sb("--chdir=%s", o.WorkDir)
	sb("--ntasks=1")
	sb("--cpus-per-task=%d", o.CPUsPerTask)
	if o.Time != "" {
		sb("--time=%s", o.Time)
	}
	if o.Partition != "" {
		sb("--partition=%s", o.Partition)
	}
	if gpus > 0 {
		sb("--gpus-per-task=%d", gpus)
	}
	sb("--requeue")
	sb("--signal=B:USR1@%d", WarningSeconds)
	for _, a := range o.SbatchArgs {
		sb("%s", a)
	}
	// exec: the harness becomes the batch shell, so the B: signal reaches it.
	fmt.Fprintf(&b, "\nexec %s run-one --requeue --list %s/%s --index \"$SLURM_ARRAY_TASK_ID\" \\\n",
		shellQuote(o.Harness), shellQuote(dir), listFile)
	fmt.Fprintf(&b, "\t--shard %s/\"shard-${SLURM_ARRAY_JOB_ID}-${SLURM_ARRAY_TASK_ID}.db\"\n", shellQuote(dir))
	return b.String()
}

// gpusFor is the --gpus-per-task of a list: the option when set, else one
// when any run trains on cuda. One array has one shape of task, so a grid
// mixing cpu and cuda runs gives every task a GPU.
func gpusFor(o Options, cuda bool) int {
	switch {
	case o.GPUsPerRun > 0:
		return o.GPUsPerRun
	case cuda:
		return 1
	}
	return 0
}

// shellQuote quotes s for bash when it holds anything but safe characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
