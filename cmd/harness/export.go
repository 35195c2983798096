package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"outerloop/mlflow"
	"outerloop/results"
)

// ExportCommand writes the results as CSV or JSON Lines files, or as an
// MLflow tracking database.
type ExportCommand struct {
	stdout, stderr io.Writer

	db     string
	grid   string
	format string
	out    string
}

func (c *ExportCommand) flags() *flag.FlagSet {
	fs := newFlagSet("export")
	fs.StringVar(&c.db, "db", defaultDB, "results database")
	fs.StringVar(&c.grid, "grid", "", "export only this grid's runs (default: every run)")
	fs.StringVar(&c.format, "format", "csv", "csv, jsonl or mlflow")
	fs.StringVar(&c.out, "o", ".", "folder to write the files into (created if missing)")
	fs.StringVar(&c.out, "out", ".", "the same as -o")
	return fs
}

// Usage prints the help.
func (c *ExportCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness export [flags]

Export writes three files into the -o folder:
  runs.csv     one row per run: id, grids, seed, status, attempts, error,
               wall time, times, checkpoint, provenance, and one column per
               config key (config.train.loops, config.model.core, ...)
  metrics.csv  run, name, step, value: every logged training scalar
  evals.csv    run, step, loops, name, value: accuracy by inference loops
With --format jsonl the files are runs.jsonl (config kept nested),
metrics.jsonl and evals.jsonl. NaN is written as NaN in CSV and null in JSON.

With --format mlflow it writes mlflow.db, an MLflow `+mlflow.Version+` tracking database
(MLflow 3 reads SQLite; its ./mlruns file store is deprecated): one
experiment per grid; one run per grid run with its config keys as params,
every metric point with its step, evaluations as eval/NAME/loops_L (by
training step) and inference_loops/NAME (the last evaluation, by loop
count), and tags status, seed, grid and commit. A newer MLflow asks for
'mlflow db upgrade sqlite:///DIR/mlflow.db' once before reading it.

Examples:
  harness export --grid outer-loop -o out/
  harness export --format jsonl -o out/
  python -c "import pandas as pd; print(pd.read_csv('out/runs.csv').groupby('config.train.loops').size())"
  harness export --format mlflow --out out/mlflow
  mlflow ui --backend-store-uri sqlite:///out/mlflow/mlflow.db
`)
}

// Run exports.
func (c *ExportCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInputf("export: takes no arguments (use --grid and -o)")
	}
	mlflowFormat := strings.EqualFold(c.format, "mlflow")
	format, err := results.ParseFormat(c.format)
	if err != nil && !mlflowFormat {
		return badInputf("export: unknown format %q (want csv, jsonl or mlflow)", c.format)
	}
	store, err := openExistingStore(ctx, c.db, c.stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	if mlflowFormat {
		return c.mlflow(ctx, store)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tables := []struct {
		name  string
		write func(context.Context, io.Writer, results.Format, string) error
	}{
		{"runs", store.ExportRuns},
		{"metrics", store.ExportMetrics},
		{"evals", store.ExportEvals},
	}
	for _, t := range tables {
		path := filepath.Join(c.out, t.name+"."+string(format))
		if err := writeFile(path, func(w io.Writer) error { return t.write(ctx, w, format, c.grid) }); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, path)
	}
	return nil
}

// mlflow writes the MLflow tracking database and says how to open it.
func (c *ExportCommand) mlflow(ctx context.Context, store *results.Store) error {
	sum, err := mlflow.Export(ctx, store, c.out, c.grid)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %d experiments, %d runs, %d params, %d metric points\nmlflow ui --backend-store-uri %s\n",
		sum.Path, sum.Experiments, sum.Runs, sum.Params, sum.Points, sum.TrackingURI)
	return nil
}

// writeFile writes through a temporary file and renames it, so a failed
// export never leaves a truncated file that looks complete.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
