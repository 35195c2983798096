package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"outerloop/experiments"
	"outerloop/reports"
	"outerloop/results"
)

// ReportCommand writes a grid's HTML report and figures.
type ReportCommand struct {
	stdout, stderr io.Writer

	db   string
	out  string
	sets setFlags
}

func (c *ReportCommand) flags() *flag.FlagSet {
	fs := newFlagSet("report")
	fs.StringVar(&c.db, "db", defaultDB, "results database to read")
	fs.StringVar(&c.out, "out", "", "folder for the report (default: reports/<grid> beside the database)")
	fs.Var(&c.sets, "set", "override a grid value, as for run (repeatable)")
	return fs
}

// Usage prints the help.
func (c *ReportCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness report [flags] GRID.toml|GRID-NAME

Report reads the grid's runs from the results database and writes one
self-contained HTML file (figures inline, no network) plus every figure as
SVG and PNG, then prints the file's path and each claim's verdict:
reproduced, not reproduced or inconclusive, with the numbers behind it.
Given a grid file, its runs are the file's expansion (with --set applied);
given a name, the grid as it was last planned. 'harness run' writes the
same report when a grid finishes.

Examples:
  harness report ablations/outer-loop.toml
  harness report --db shard.db --out /tmp/r outer-loop
`)
}

// Run writes the report.
func (c *ReportCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return badInputf("report: want one grid file or grid name, got %d arguments\nrun 'harness report --help' for usage", len(pos))
	}
	if err := moveOldDefault(ctx, c.db, c.stderr); err != nil {
		return err
	}
	if _, err := os.Stat(c.db); err != nil {
		return badInputf("report: no results database at %s (run the grid first, or pass --db)", c.db)
	}
	store, err := results.Open(ctx, c.db)
	if err != nil {
		return err
	}
	defer store.Close()
	var data reports.Data
	if strings.HasSuffix(pos[0], ".toml") {
		g, _, err := loadGrid(pos[0], c.sets)
		if err != nil {
			return err
		}
		data, err = reports.LoadGrid(ctx, store, g)
		if err != nil {
			return err
		}
	} else if data, err = reports.Load(ctx, store, pos[0]); err != nil {
		return badInput(err)
	}
	path, rep, err := writeReport(data, reportDir(c.out, c.db, data.Grid.Name))
	if err != nil {
		return err
	}
	printVerdicts(c.stdout, path, rep)
	return nil
}

// reportDir is where a grid's report goes: out if set, else
// reports/<grid> beside the database.
func reportDir(out, db, grid string) string {
	if out != "" {
		return out
	}
	return filepath.Join(filepath.Dir(db), "reports", grid)
}

// writeReport builds the report and writes index.html and the figures
// into dir, returning the HTML file's path.
func writeReport(data reports.Data, dir string) (string, *reports.Report, error) {
	rep, err := reports.Build(data)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, fmt.Errorf("write report: %w", err)
	}
	if err := rep.WriteFigures(dir); err != nil {
		return "", nil, err
	}
	path := filepath.Join(dir, "index.html")
	if err := rep.WriteHTML(path); err != nil {
		return "", nil, err
	}
	return path, rep, nil
}

// writeGridReport is the report `harness run` refreshes when a grid ends.
func writeGridReport(ctx context.Context, store *results.Store, g *experiments.Grid, db string) (string, *reports.Report, error) {
	data, err := reports.LoadGrid(ctx, store, g)
	if err != nil {
		return "", nil, err
	}
	return writeReport(data, reportDir("", db, g.Name))
}

// printVerdicts prints where the report is and one line per claim.
func printVerdicts(w io.Writer, path string, rep *reports.Report) {
	fmt.Fprintf(w, "report: %s\n", path)
	if len(rep.Verdicts) == 0 {
		fmt.Fprintln(w, "no claims ([[expect]]) in this grid")
	}
	for _, v := range rep.Verdicts {
		fmt.Fprintf(w, "  %-16s %s\n  %16s %s\n", strings.ToUpper(string(v.Outcome)), v.Claim.String(), "", v.Reason)
	}
}
