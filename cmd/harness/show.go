package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"outerloop/results"
)

// ShowCommand prints one run in full.
type ShowCommand struct {
	stdout, stderr io.Writer

	db string
}

func (c *ShowCommand) flags() *flag.FlagSet {
	fs := newFlagSet("show")
	fs.StringVar(&c.db, "db", defaultDB, "results database")
	return fs
}

// Usage prints the help.
func (c *ShowCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness show [flags] RUN

Show prints one run: its status and full error (a panic's stack included),
wall time, last checkpoint, provenance (commit and dirty flag, Go and
libtorch versions, host, CPU, threads), resolved configuration, the last
value of each metric, the last evaluation's accuracy at each inference loop
count, and its artifacts. RUN is a run id or any unambiguous prefix of one,
such as the 12-digit short id that plan and ls print.

Examples:
  harness show 3f2a1b9c0d12
  harness show --db shards/merged.db 3f2a
`)
}

// Run shows the run.
func (c *ShowCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInputf("show: want one run id, got %d arguments", len(pos))
	}
	store, err := openExistingStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	r, err := store.FindRun(ctx, pos[0])
	if errors.Is(err, results.ErrNotFound) || errors.Is(err, results.ErrAmbiguous) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	grids, err := store.RunGrids(ctx, r.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "run\t%s\n", r.ID)
	fmt.Fprintf(tw, "grids\t%s\n", strings.Join(grids, ", "))
	fmt.Fprintf(tw, "status\t%s after %d attempts\n", r.Status, r.Attempts)
	if r.Status == results.Running {
		fmt.Fprintf(tw, "lease\t%s, last heartbeat %s\n", r.LeaseOwner, stamp(r.Heartbeat))
	}
	fmt.Fprintf(tw, "wall time\t%s\n", r.Wall.Round(100*time.Millisecond))
	fmt.Fprintf(tw, "started\t%s\n", stamp(r.Started))
	fmt.Fprintf(tw, "finished\t%s\n", stamp(r.Finished))
	if r.CheckpointStep != results.NoCheckpoint {
		fmt.Fprintf(tw, "checkpoint\tstep %d\n", r.CheckpointStep)
	}
	if r.Provenance != "" {
		p, err := store.Provenance(ctx, r.Provenance)
		if err != nil {
			return err
		}
		writeProvenance(tw, p)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Error != "" {
		fmt.Fprintf(c.stdout, "\nerror:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(r.Error), "\n", "\n  "))
	}
	var cfg bytes.Buffer
	if err := json.Indent(&cfg, r.Config, "  ", "  "); err != nil {
		return fmt.Errorf("show run %s: config: %w", r.ID, err)
	}
	fmt.Fprintf(c.stdout, "\nconfig:\n  %s\n", cfg.String())
	return c.results(ctx, store, r.ID)
}

func writeProvenance(w io.Writer, p results.Provenance) {
	commit := p.GitCommit
	if commit == "" {
		commit = "unknown"
	}
	if p.GitDirty {
		commit += " (dirty: uncommitted changes)"
	}
	fmt.Fprintf(w, "commit\t%s\n", commit)
	fmt.Fprintf(w, "go\t%s\n", p.GoVersion)
	fmt.Fprintf(w, "libtorch\t%s %s\n", p.LibtorchVersion, p.LibtorchABI)
	fmt.Fprintf(w, "host\t%s, %s, %d threads\n", p.Host, p.CPUModel, p.Threads)
	keys := make([]string, 0, len(p.Info))
	for k := range p.Info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s\t%s\n", k, p.Info[k])
	}
}

// results prints the last metrics, the last evaluation and the artifacts.
func (c *ShowCommand) results(ctx context.Context, store *results.Store, id string) error {
	last, err := store.LastMetrics(ctx, id)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	if len(last) > 0 {
		fmt.Fprintln(tw, "\nlast metrics:")
		for _, m := range last {
			fmt.Fprintf(tw, "  %s\t%.6g\tat step %d\n", m.Name, m.Value, m.Step)
		}
	}
	evals, err := store.Evals(ctx, id)
	if err != nil {
		return err
	}
	if len(evals) > 0 {
		step := evals[len(evals)-1].Step
		fmt.Fprintf(tw, "\nevaluation at step %d (by inference loops):\n", step)
		for _, e := range evals {
			if e.Step == step {
				fmt.Fprintf(tw, "  %s\tloops %d\t%.4g\n", e.Name, e.Loops, e.Value)
			}
		}
	}
	arts, err := store.Artifacts(ctx, id)
	if err != nil {
		return err
	}
	if len(arts) > 0 {
		fmt.Fprintln(tw, "\nartifacts (paths relative to the run folder):")
		for _, a := range arts {
			fmt.Fprintf(tw, "  %s\t%s\t%d bytes\tsha256 %s\n", a.Kind, a.Path, a.Bytes, a.SHA256[:min(16, len(a.SHA256))])
		}
	}
	return tw.Flush()
}

// stamp formats a time for people; "-" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
