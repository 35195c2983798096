// Package mlflow writes a results database as an MLflow tracking store, so
// MLflow's UI and client (and tools that read MLflow: Aim via aimlflow,
// fasttrackml) show the grids: experiments are grids, runs carry their
// config keys as params, every metric point with its step, evaluations as
// metrics, and status, seed, commit and grid as tags.
//
// The store is MLflow's SQLite tracking database, not the ./mlruns file
// store: MLflow 3 refuses the file store unless MLFLOW_ALLOW_FILE_STORE is
// set and keeps it only in maintenance. The file holds the exact schema of
// the MLflow release named by Version (schema.sql, dumped from a database
// that release created, by testdata/dump-schema.py); a newer MLflow asks
// for `mlflow db upgrade sqlite:///PATH` once before reading it, as for any
// database an older MLflow wrote.
package mlflow

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"outerloop/results"
)

//go:embed schema.sql
var schema string

// Version is the MLflow release whose tracking database Export writes.
const Version = "3.17.2"

// FileName is the database Export writes in its folder.
const FileName = "mlflow.db"

// Summary counts what Export wrote.
type Summary struct {
	// Path is the database; TrackingURI what MLflow is given to read it.
	Path, TrackingURI                 string
	Experiments, Runs, Params, Points int
}

// Export writes the runs of every grid in store (or only of grid, when not
// "") into dir/mlflow.db, replacing the file atomically. A run that belongs
// to two grids appears in both experiments.
func Export(ctx context.Context, store *results.Store, dir, grid string) (Summary, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Summary{}, fmt.Errorf("export to mlflow: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Summary{}, fmt.Errorf("export to mlflow: %w", err)
	}
	path := filepath.Join(dir, FileName)
	tmp := path + ".tmp"
	os.Remove(tmp)
	defer os.Remove(tmp)
	sum, err := write(ctx, store, tmp, dir, grid)
	if err != nil {
		return Summary{}, fmt.Errorf("export to mlflow %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return Summary{}, fmt.Errorf("export to mlflow: %w", err)
	}
	sum.Path, sum.TrackingURI = path, "sqlite:///"+path
	return sum, nil
}

// write creates the database at path and fills it in one transaction.
func write(ctx context.Context, store *results.Store, path, dir, grid string) (Summary, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		return Summary{}, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return Summary{}, fmt.Errorf("create the MLflow %s schema: %w", Version, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return Summary{}, err
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return Summary{}, err
	}
	defer insert.Close()
	w := &writer{ctx: ctx, tx: tx, store: store, dir: dir, now: time.Now().UnixMilli(), insertMetric: insert,
		runsDir: filepath.Join(filepath.Dir(absPath(store.Path())), "runs")}
	if err := w.grids(grid); err != nil {
		return Summary{}, err
	}
	if err := tx.Commit(); err != nil {
		return Summary{}, err
	}
	return w.sum, nil
}

// grids writes MLflow's Default experiment, then one per grid (or only
// the one named grid).
func (w *writer) grids(grid string) error {
	grids, err := w.store.Grids(w.ctx)
	if err != nil {
		return err
	}
	if err := w.experiment(0, results.GridSummary{Grid: results.Grid{Name: "Default"}}); err != nil {
		return err
	}
	for _, g := range grids {
		if grid != "" && g.Name != grid {
			continue
		}
		w.sum.Experiments++
		if err := w.grid(w.sum.Experiments, g); err != nil {
			return fmt.Errorf("grid %s: %w", g.Name, err)
		}
	}
	if grid != "" && w.sum.Experiments == 0 {
		return fmt.Errorf("no grid %q in %s", grid, w.store.Path())
	}
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// fileURI is the file: URI of an absolute path, as MLflow writes them.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// writer fills one export's transaction.
type writer struct {
	ctx     context.Context
	tx      *sql.Tx
	store   *results.Store
	dir     string // the export folder; experiments' artifact roots are under it
	runsDir string // runs/ beside the results database: the runs' checkpoints
	now     int64
	sum     Summary
	// insertMetric is prepared once: a large grid has millions of points.
	insertMetric *sql.Stmt
}

func (w *writer) exec(query string, args ...any) error {
	_, err := w.tx.ExecContext(w.ctx, query, args...)
	return err
}

// experiment writes one experiment row, with the grid's title, description
// and file as tags (mlflow.note.content is what MLflow's UI shows as the
// description).
func (w *writer) experiment(id int, g results.GridSummary) error {
	created := w.now
	if !g.Planned.IsZero() {
		created = g.Planned.UnixMilli()
	}
	err := w.exec(`INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time,
		last_update_time, workspace) VALUES (?, ?, ?, 'active', ?, ?, 'default')`,
		id, g.Name, fileURI(filepath.Join(w.dir, "artifacts", fmt.Sprint(id))), created, created)
	if err != nil {
		return fmt.Errorf("write experiment %s: %w", g.Name, err)
	}
	for k, v := range map[string]string{"mlflow.note.content": g.Description, "outerloop.title": g.Title, "outerloop.path": g.Path} {
		if v == "" {
			continue
		}
		if err := w.exec(`INSERT INTO experiment_tags (key, value, experiment_id) VALUES (?, ?, ?)`, k, v, id); err != nil {
			return fmt.Errorf("write experiment %s: %w", g.Name, err)
		}
	}
	return nil
}

// grid writes a grid as experiment id with its current runs.
func (w *writer) grid(id int, g results.GridSummary) error {
	if err := w.experiment(id, g); err != nil {
		return err
	}
	runs, err := w.store.GridRuns(w.ctx, g.Name)
	if err != nil {
		return err
	}
	configs := make([]map[string]string, len(runs))
	for i, r := range runs {
		if configs[i], err = results.FlatConfig(r.Config); err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
	}
	label := labeller(configs)
	for i, r := range runs {
		if err := w.run(id, g, r, configs[i], label(configs[i])); err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
	}
	return nil
}

// labeller names runs by the config keys that vary in their grid
// ("train.loops=4 seed=2"), MLflow's run name.
func labeller(configs []map[string]string) func(map[string]string) string {
	union := map[string]bool{}
	for _, c := range configs {
		for k := range c {
			union[k] = true
		}
	}
	var keys []string
	for k := range union {
		for _, c := range configs[1:] {
			if c[k] != configs[0][k] {
				keys = append(keys, k)
				break
			}
		}
	}
	sort.Strings(keys)
	return func(c map[string]string) string {
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + c[k]
		}
		return strings.Join(parts, " ")
	}
}

// runUUID is the MLflow run id: 32 hex digits from the grid and the run,
// so a run in two grids gets one per experiment and a re-export the same.
func runUUID(grid, runID string) string {
	sum := sha256.Sum256([]byte(grid + "\x00" + runID))
	return hex.EncodeToString(sum[:16])
}

// mlflowStatus maps a run's status onto MLflow's.
var mlflowStatus = map[results.Status]string{
	results.Pending: "SCHEDULED", results.Running: "RUNNING", results.Done: "FINISHED",
	results.Failed: "FAILED", results.Interrupted: "KILLED",
}
