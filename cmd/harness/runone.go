package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/slurm"
)

// RunOneCommand trains one task of a Slurm job array.
type RunOneCommand struct {
	stdout, stderr io.Writer

	list    string
	index   int
	shard   string
	threads int
	requeue bool
}

func (c *RunOneCommand) flags() *flag.FlagSet {
	fs := newFlagSet("run-one")
	fs.StringVar(&c.list, "list", "", "run list written by 'harness run --executor slurm' (required)")
	fs.IntVar(&c.index, "index", -1, "which run of the list to train: the array task id (required)")
	fs.StringVar(&c.shard, "shard", "", "this task's own results database (required)")
	fs.IntVar(&c.threads, "threads", 0, "libtorch threads (0: $SLURM_CPUS_PER_TASK, else the cores; a grid's train.threads wins)")
	fs.BoolVar(&c.requeue, "requeue", false, "on SIGUSR1 (Slurm's time-limit warning) save the run and requeue this array task")
	return fs
}

// Usage prints the help.
func (c *RunOneCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness run-one --list FILE --index I --shard SHARD.db [flags]

Run-one is what each task of a Slurm job array runs (the batch script that
'harness run --executor slurm' writes calls it); people rarely call it
themselves. It trains run I of the run list and records it only in its
own shard database, never in the main one, so array tasks on many nodes
never write one SQLite file at once. The run's folder (checkpoints) is
the one named in the list, on the shared filesystem.

SIGTERM or SIGINT saves the run's checkpoint and marks it interrupted
(exit code 130). SIGUSR1 does the same and, with --requeue, then asks
Slurm to run the task again ('scontrol requeue'); the requeued task finds
its run interrupted in its shard and resumes from the checkpoint.

Examples:
  harness run-one --list out/slurm/outer-loop-20250101-120000/runs.json --index 3 \
      --shard out/slurm/outer-loop-20250101-120000/shard-4242-3.db
`)
}

// Run trains the task's run.
func (c *RunOneCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 0 || c.list == "" || c.index < 0 || c.shard == "" || c.threads < 0 {
		return badInputf("run-one: want --list, --index ≥ 0 and --shard, and no arguments\nrun 'harness run-one --help' for usage")
	}
	trainer, err := newTrainer()
	if err != nil {
		return err
	}
	// Slurm's warning signal: without Notify, Go would exit on it at once.
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-usr1:
			cancel(slurm.ErrWarning)
		case <-ctx.Done():
		}
	}()
	task := &slurm.Task{List: c.list, Index: c.index, Shard: c.shard, Trainer: trainer, Threads: c.threads,
		Events: harness.NewLinePrinter(c.stderr), Requeue: c.requeue}
	out, err := task.Run(ctx)
	if out.Status != "" {
		fmt.Fprintf(c.stdout, "run %s: %s\n", experiments.ShortID(out.Run), out.Status)
	}
	if out.Requeued != "" {
		fmt.Fprintf(c.stdout, "requeued array task %s: it resumes from the run's checkpoint\n", out.Requeued)
	}
	return err
}
