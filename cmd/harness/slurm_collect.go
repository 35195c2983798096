package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"outerloop/harness/slurm"
)

// SlurmCollectCommand merges array tasks' shards into the main database.
type SlurmCollectCommand struct {
	stdout, stderr io.Writer

	db string
}

func (c *SlurmCollectCommand) flags() *flag.FlagSet {
	fs := newFlagSet("slurm collect")
	fs.StringVar(&c.db, "db", defaultDB, "main results database (its slurm/ folder holds the submissions)")
	return fs
}

// Usage prints the help.
func (c *SlurmCollectCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness slurm collect [flags] [JOBID...]

Collect merges the shard databases of Slurm array tasks that have ended
into the main database: those of the given array jobs, or of every array
submitted for this database that is not collected yet. It is idempotent
and safe at any time: shards of tasks still queued or running are left
for a later collect. A run whose task was killed while training is marked
interrupted (the next 'harness run --executor slurm' resumes it from its
checkpoint); a task that ended without recording its run (it never
started, or died at once) marks the run failed, pointing at the task's
log. When every task of an array has ended and been merged, the array is
marked collected and not read again.

'harness run --executor slurm' collects before it submits, and --wait
collects when the array ends; 'harness merge shard-*.db -o MAIN.db' merges
shards by hand (off the cluster, say).

Examples:
  harness slurm collect 4242
  harness slurm collect --db /shared/me/outer.db
`)
}

// Run collects.
func (c *SlurmCollectCommand) Run(ctx context.Context, args []string) error {
	jobs, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j == "" || strings.Trim(j, "0123456789") != "" {
			return badInputf("slurm collect: %q is not a job id (want the number sbatch printed)", j)
		}
	}
	store, err := openExistingStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := slurm.Collect(ctx, store, slurm.DefaultDir(c.db), jobs)
	printCollect(c.stdout, rep)
	if err == nil && len(rep.Merged) == 0 && rep.Active == 0 && len(rep.Lost) == 0 {
		fmt.Fprintln(c.stdout, "nothing to collect")
	}
	return err
}
