package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/results"
)

// PlanCommand prints a grid's expansion without training.
type PlanCommand struct {
	stdout, stderr io.Writer

	db   string
	sets setFlags
}

func (c *PlanCommand) flags() *flag.FlagSet {
	fs := newFlagSet("plan")
	fs.StringVar(&c.db, "db", defaultDB, "results database to read statuses from (not created)")
	fs.Var(&c.sets, "set", "override a grid value, as for run (repeatable)")
	return fs
}

// Usage prints the help.
func (c *PlanCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness plan [flags] GRID.toml

Plan loads and checks the grid file, expands it and prints one line per run:
its short id, its status in the results database ("new" if it was never
planned) and its values of the keys that vary across the grid. Nothing is
trained or written. Every problem in the grid file is reported at once,
naming file, line and key.

Examples:
  harness plan ablations/outer-loop.toml
  harness plan --set train.steps=50 ablations/outer-loop.toml
`)
}

// Run prints the plan.
func (c *PlanCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInputf("plan: want one grid file, got %d arguments\nrun 'harness plan --help' for usage", len(pos))
	}
	g, runs, err := loadGrid(pos[0], c.sets)
	if err != nil {
		return err
	}
	statuses, err := c.statuses(ctx, runs)
	if err != nil {
		return err
	}
	title := ""
	if g.Title != "" {
		title = fmt.Sprintf(" (%s)", g.Title)
	}
	fmt.Fprintf(c.stdout, "grid %s%s: %d runs = %d seeds × %d configurations\n", g.Name, title, len(runs), len(g.Seeds), len(runs)/max(len(g.Seeds), 1))
	keys, rows := harness.VaryingTable(runs)
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tSTATUS\t%s\n", strings.Join(keys, "\t"))
	counts := map[string]int{}
	for i, r := range runs {
		st := "new"
		if s, ok := statuses[r.ID]; ok {
			st = string(s)
		}
		counts[st]++
		fmt.Fprintf(tw, "%s\t%s\t%s\n", experiments.ShortID(r.ID), st, strings.Join(rows[i], "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print plan: %w", err)
	}
	var parts []string
	for _, st := range []string{"done", "failed", "interrupted", "running", "pending", "new"} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	fmt.Fprintf(c.stdout, "%s; %d claims to check\n", strings.Join(parts, ", "), len(g.Expect))
	return nil
}

// statuses reads the runs' statuses, or none when there is no database yet.
func (c *PlanCommand) statuses(ctx context.Context, runs []experiments.RunSpec) (map[string]results.Status, error) {
	if err := moveOldDefault(ctx, c.db, c.stderr); err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.db); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	store, err := results.Open(ctx, c.db)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return store.Statuses(ctx, ids)
}
