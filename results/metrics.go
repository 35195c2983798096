package results

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"
)

// Metric is one training scalar at one step.
type Metric struct {
	Step  int
	Name  string
	Value float64 // NaN is kept (stored as NULL)
}

// Eval is one evaluation result: metric Name after Loops inference segments,
// for the weights at training step Step.
type Eval struct {
	Step  int
	Loops int
	Name  string
	Value float64
}

// Artifact is a file a run produced, identified by its content hash.
type Artifact struct {
	Kind    string // e.g. "checkpoint", "predictions"
	Path    string
	SHA256  string
	Bytes   int64
	Created time.Time
}

// Batch is what a run produced since its last write. It is written in one
// transaction, so a checkpoint step is never recorded without the metrics
// logged before it.
type Batch struct {
	Metrics   []Metric
	Evals     []Eval
	Artifacts []Artifact
	// Checkpoint is the step of the newest checkpoint on disk, or
	// NoCheckpoint when the batch brings none.
	Checkpoint int
}

// rowsPerInsert is how many rows one multi-row INSERT carries. Fewer,
// larger statements are what makes ingest fast through cgo; 5 parameters ×
// 200 rows stays far below SQLite's limit of 32766 bound parameters.
const rowsPerInsert = 200

// Write records a batch. Rows for a step already recorded replace the old
// ones: a resumed run re-logs the steps after its checkpoint, and the
// curve then shows the trajectory that continued.
func (l *Lease) Write(ctx context.Context, b Batch) error {
	return l.inTx(ctx, "write results of", func(tx *sql.Tx) error {
		err := insertRows(ctx, tx, `INSERT OR REPLACE INTO metrics (run, name, step, value) VALUES `, 4, len(b.Metrics),
			func(i int, args []any) []any {
				m := b.Metrics[i]
				return append(args, l.key, m.Name, m.Step, nullNaN(m.Value))
			})
		if err != nil {
			return fmt.Errorf("insert metrics: %w", err)
		}
		err = insertRows(ctx, tx, `INSERT OR REPLACE INTO evals (run, step, loops, name, value) VALUES `, 5, len(b.Evals),
			func(i int, args []any) []any {
				e := b.Evals[i]
				return append(args, l.key, e.Step, e.Loops, e.Name, nullNaN(e.Value))
			})
		if err != nil {
			return fmt.Errorf("insert evals: %w", err)
		}
		for _, a := range b.Artifacts {
			_, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO artifacts (run, kind, path, sha256, bytes, created_at)
				VALUES (?, ?, ?, ?, ?, ?)`, l.key, a.Kind, a.Path, a.SHA256, a.Bytes, a.Created.UnixMilli())
			if err != nil {
				return fmt.Errorf("insert artifact %s: %w", a.Path, err)
			}
		}
		if b.Checkpoint != NoCheckpoint {
			_, err := tx.ExecContext(ctx, `UPDATE runs SET checkpoint_step = ? WHERE key = ?`, b.Checkpoint, l.key)
			if err != nil {
				return fmt.Errorf("record checkpoint: %w", err)
			}
		}
		return nil
	})
}

// insertRows inserts n rows of width columns with multi-row INSERTs. row
// appends the arguments of row i.
func insertRows(ctx context.Context, tx *sql.Tx, prefix string, width, n int, row func(i int, args []any) []any) error {
	var (
		full     *sql.Stmt
		args     = make([]any, 0, width*rowsPerInsert)
		rowMarks = "(" + strings.Repeat("?, ", width-1) + "?)"
	)
	for start := 0; start < n; start += rowsPerInsert {
		end := min(start+rowsPerInsert, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		query := prefix + strings.Repeat(rowMarks+", ", end-start-1) + rowMarks
		if end-start < rowsPerInsert {
			if _, err := tx.ExecContext(ctx, query, args...); err != nil {
				return err
			}
			continue
		}
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, query); err != nil {
				return err
			}
			defer full.Close()
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// nullNaN binds NaN as NULL, which is what SQLite would store anyway, but
// explicitly so reads can turn it back.
func nullNaN(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

// nanNull is the reverse of nullNaN.
func nanNull(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

// Metrics returns a run's metric rows ordered by name, then step: one series
// per name, ready to plot.
func (s *Store) Metrics(ctx context.Context, runID string) ([]Metric, error) {
	return s.metrics(ctx, runID, `SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.key = m.run
		WHERE r.id = ? ORDER BY m.name, m.step`)
}

// LastMetrics returns the newest value of each of a run's metrics, by name.
func (s *Store) LastMetrics(ctx context.Context, runID string) ([]Metric, error) {
	return s.metrics(ctx, runID, `SELECT m.name, m.step, m.value FROM metrics m JOIN runs r ON r.key = m.run
		WHERE r.id = ? AND m.step = (SELECT max(step) FROM metrics WHERE run = m.run AND name = m.name)
		ORDER BY m.name`)
}

func (s *Store) metrics(ctx context.Context, runID, query string) ([]Metric, error) {
	rows, err := s.db.QueryContext(ctx, query, runID)
	if err != nil {
		return nil, fmt.Errorf("read metrics of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		var (
			m Metric
			v sql.NullFloat64
		)
		if err := rows.Scan(&m.Name, &m.Step, &v); err != nil {
			return nil, fmt.Errorf("read metrics of run %s: %w", runID, err)
		}
		m.Value = nanNull(v)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read metrics of run %s: %w", runID, err)
	}
	return out, nil
}

// Evals returns a run's evaluation rows ordered by step, name and loops: for
// each evaluated step, one inference-loop curve per metric.
func (s *Store) Evals(ctx context.Context, runID string) ([]Eval, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.step, e.loops, e.name, e.value FROM evals e
		JOIN runs r ON r.key = e.run WHERE r.id = ? ORDER BY e.step, e.name, e.loops`, runID)
	if err != nil {
		return nil, fmt.Errorf("read evals of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Eval
	for rows.Next() {
		var (
			e Eval
			v sql.NullFloat64
		)
		if err := rows.Scan(&e.Step, &e.Loops, &e.Name, &v); err != nil {
			return nil, fmt.Errorf("read evals of run %s: %w", runID, err)
		}
		e.Value = nanNull(v)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read evals of run %s: %w", runID, err)
	}
	return out, nil
}

// Artifacts returns the files a run recorded, by kind and path.
func (s *Store) Artifacts(ctx context.Context, runID string) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.kind, a.path, a.sha256, a.bytes, a.created_at FROM artifacts a
		JOIN runs r ON r.key = a.run WHERE r.id = ? ORDER BY a.kind, a.path`, runID)
	if err != nil {
		return nil, fmt.Errorf("read artifacts of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		var (
			a       Artifact
			created int64
		)
		if err := rows.Scan(&a.Kind, &a.Path, &a.SHA256, &a.Bytes, &created); err != nil {
			return nil, fmt.Errorf("read artifacts of run %s: %w", runID, err)
		}
		a.Created = millis(created)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read artifacts of run %s: %w", runID, err)
	}
	return out, nil
}
