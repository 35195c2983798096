package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/slurm"
	"outerloop/results"
)

// LsCommand lists grids, or one grid's runs.
type LsCommand struct {
	stdout, stderr io.Writer

	db string
}

func (c *LsCommand) flags() *flag.FlagSet {
	fs := newFlagSet("ls")
	fs.StringVar(&c.db, "db", defaultDB, "results database")
	return fs
}

// Usage prints the help.
func (c *LsCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness ls [flags] [GRID]

Without an argument, ls lists the grids in the results database with how
many of their runs are in each status. With a grid name, it lists that
grid's runs (its latest plan): short id, status, attempts, wall time, last
checkpoint step, the values of the keys that vary, and the first line of
the error of failed or interrupted runs. Runs in Slurm arrays that are not
collected yet show their array TASK and where they stand there: submitted,
requeued, running (from squeue), or done, failed, interrupted or lost
(from the ended task's shard).

Examples:
  harness ls
  harness ls outer-loop
  harness ls --db shards/merged.db outer-loop
`)
}

var statusOrder = []results.Status{results.Done, results.Running, results.Pending, results.Interrupted, results.Failed}

// Run lists.
func (c *LsCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return badInputf("ls: want at most one grid name, got %d arguments", len(pos))
	}
	store, err := openExistingStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	if len(pos) == 0 {
		return c.grids(ctx, store)
	}
	return c.runs(ctx, store, pos[0])
}

func (c *LsCommand) grids(ctx context.Context, store *results.Store) error {
	grids, err := store.Grids(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "GRID\tRUNS")
	for _, st := range statusOrder {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(string(st)))
	}
	fmt.Fprint(tw, "\tPLANNED\tTITLE\n")
	for _, g := range grids {
		fmt.Fprintf(tw, "%s\t%d", g.Name, g.Total)
		for _, st := range statusOrder {
			fmt.Fprintf(tw, "\t%d", g.Counts[st])
		}
		fmt.Fprintf(tw, "\t%s\t%s\n", g.Planned.Format("2006-01-02 15:04"), g.Title)
	}
	return tw.Flush()
}

func (c *LsCommand) runs(ctx context.Context, store *results.Store, grid string) error {
	runs, err := store.GridRuns(ctx, grid)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return badInputf("ls: no grid %q in %s (harness ls lists them)", grid, c.db)
	}
	keys, rows := varyingOfStored(runs)
	// Runs in Slurm arrays not yet collected show where they stand there.
	slurm, slurmErr := slurm.States(ctx, store, slurm.DefaultDir(c.db))
	task := ""
	if len(slurm) > 0 {
		task = "TASK\t"
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tSTATUS\t%sATTEMPTS\tWALL\tCHECKPOINT\t%s\tERROR\n", task, strings.Join(keys, "\t"))
	for i, r := range runs {
		status, ckptStep := string(r.Status), r.CheckpointStep
		if st, ok := slurm[r.ID]; ok {
			status, ckptStep = st.Status, max(ckptStep, st.CheckpointStep)
		}
		if task != "" {
			status += "\t" + orDefault(slurm[r.ID].Task, "-")
		}
		ckpt := "-"
		if ckptStep != results.NoCheckpoint {
			ckpt = fmt.Sprint(ckptStep)
		}
		first, _, _ := strings.Cut(r.Error, "\n")
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", experiments.ShortID(r.ID), status, r.Attempts,
			r.Wall.Round(100*time.Millisecond), ckpt, strings.Join(rows[i], "\t"), first)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if slurmErr != nil {
		fmt.Fprintf(c.stdout, "(slurm arrays not shown: %v)\n", slurmErr)
	}
	return nil
}

// varyingOfStored decodes stored configs to find the keys that vary. A
// config this binary cannot decode (written by another version) shows "?".
func varyingOfStored(runs []results.Run) ([]string, [][]string) {
	var specs []experiments.RunSpec
	var at []int
	for i, r := range runs {
		spec, err := experiments.DecodeRunSpec(r.Config)
		if err != nil {
			continue
		}
		spec.Seed = r.Seed
		specs = append(specs, spec)
		at = append(at, i)
	}
	keys, decoded := harness.VaryingTable(specs)
	rows := make([][]string, len(runs))
	for i := range rows {
		rows[i] = make([]string, len(keys))
		for j := range rows[i] {
			rows[i][j] = "?"
		}
	}
	for k, i := range at {
		rows[i] = decoded[k]
	}
	return keys, rows
}
