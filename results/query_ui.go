package results

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Queries for viewers (harness serve). Each one answers from the primary
// keys' indexes — metrics (run, name, step), evals (run, step, loops, name),
// grid_runs (grid, run) — without scanning a run's whole history, so they
// stay fast with thousands of runs of thousands of points each.

// stampColumns fingerprints a set of runs: every write through a lease
// renews heartbeat_at, so the stamp changes with each metric batch, status
// change, new attempt and checkpoint, and with nothing else.
const stampColumns = `count(r.key), coalesce(sum(r.status = 'done'), 0), coalesce(sum(r.status = 'running'), 0),
	coalesce(sum(r.status = 'failed'), 0), coalesce(max(r.heartbeat_at), 0), coalesce(max(r.finished_at), 0),
	coalesce(sum(r.attempts), 0), coalesce(sum(r.checkpoint_step), 0)`

// Stamp returns a fingerprint of a grid's current plan and runs, or of the
// whole database when grid is "": equal stamps mean a viewer has nothing
// new to show. It costs one pass over the grid's run rows, none over
// metrics.
func (s *Store) Stamp(ctx context.Context, grid string) (string, error) {
	query := `SELECT (SELECT count(*) || ':' || coalesce(max(planned_at), 0) FROM grids), ` + stampColumns + ` FROM runs r`
	args := []any{}
	if grid != "" {
		query = `SELECT (SELECT coalesce(max(planned_at), 0) FROM grids WHERE name = ?), ` + stampColumns + `
			FROM grid_runs g JOIN runs r ON r.key = g.run WHERE g.grid = ? AND g.current = 1`
		args = []any{grid, grid}
	}
	var planned string
	var n [8]int64
	err := s.db.QueryRowContext(ctx, query, args...).Scan(&planned, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5], &n[6], &n[7])
	if err != nil {
		return "", fmt.Errorf("read stamp of %q: %w", grid, err)
	}
	return planned + "-" + joinStamp(n), nil
}

// joinStamp writes stamp numbers as one token, safe in an HTTP ETag.
func joinStamp(n [8]int64) string {
	parts := make([]string, len(n))
	for i, v := range n {
		parts[i] = strconv.FormatInt(v, 36)
	}
	return strings.Join(parts, ".")
}

// LastMetricsOf returns, for each of the runs ids that logged any metric,
// the newest value of each metric it logged, by name. The metric names of
// a run are found by skipping through the (run, name, step) index one name
// at a time (a recursive query), so the cost grows with the number of
// names, not of points.
func (s *Store) LastMetricsOf(ctx context.Context, ids []string) (map[string][]Metric, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE
		chosen(key, id) AS (SELECT r.key, r.id FROM json_each(?) j JOIN runs r ON r.id = j.value),
		names(key, id, name) AS (
			SELECT key, id, (SELECT min(name) FROM metrics WHERE run = chosen.key) FROM chosen
			UNION ALL
			SELECT key, id, (SELECT min(name) FROM metrics WHERE run = names.key AND name > names.name)
			FROM names WHERE name IS NOT NULL)
		SELECT n.id, n.name, m.step, m.value FROM names n
		JOIN metrics m ON m.run = n.key AND m.name = n.name
			AND m.step = (SELECT max(step) FROM metrics WHERE run = n.key AND name = n.name)
		ORDER BY n.id, n.name`, list)
	if err != nil {
		return nil, fmt.Errorf("read last metrics: %w", err)
	}
	defer rows.Close()
	out := map[string][]Metric{}
	for rows.Next() {
		var (
			id string
			m  Metric
			v  sql.NullFloat64
		)
		if err := rows.Scan(&id, &m.Name, &m.Step, &v); err != nil {
			return nil, fmt.Errorf("read last metrics: %w", err)
		}
		m.Value = nanNull(v)
		out[id] = append(out[id], m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read last metrics: %w", err)
	}
	return out, nil
}

// FinalEvalsOf returns, for each of the runs ids that was evaluated, the
// rows of its last evaluation (the largest evaluated step), ordered by name
// and loops: its final inference-loop curve.
func (s *Store) FinalEvalsOf(ctx context.Context, ids []string) (map[string][]Eval, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `WITH chosen(key, id, step) AS (
			SELECT r.key, r.id, (SELECT max(step) FROM evals WHERE run = r.key)
			FROM json_each(?) j JOIN runs r ON r.id = j.value)
		SELECT c.id, e.step, e.loops, e.name, e.value FROM chosen c
		JOIN evals e ON e.run = c.key AND e.step = c.step
		ORDER BY c.id, e.name, e.loops`, list)
	if err != nil {
		return nil, fmt.Errorf("read final evals: %w", err)
	}
	defer rows.Close()
	out := map[string][]Eval{}
	for rows.Next() {
		var (
			id string
			e  Eval
			v  sql.NullFloat64
		)
		if err := rows.Scan(&id, &e.Step, &e.Loops, &e.Name, &v); err != nil {
			return nil, fmt.Errorf("read final evals: %w", err)
		}
		e.Value = nanNull(v)
		out[id] = append(out[id], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read final evals: %w", err)
	}
	return out, nil
}

// MetricSeries returns one metric of one run by step, reading only that
// series' stretch of the (run, name, step) index.
func (s *Store) MetricSeries(ctx context.Context, runID, name string) ([]Metric, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT step, value FROM metrics
		WHERE run = (SELECT key FROM runs WHERE id = ?) AND name = ? ORDER BY step`, runID, name)
	if err != nil {
		return nil, fmt.Errorf("read %s of run %s: %w", name, runID, err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		m := Metric{Name: name}
		var v sql.NullFloat64
		if err := rows.Scan(&m.Step, &v); err != nil {
			return nil, fmt.Errorf("read %s of run %s: %w", name, runID, err)
		}
		m.Value = nanNull(v)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s of run %s: %w", name, runID, err)
	}
	return out, nil
}

// FlatConfig flattens a run's config JSON into dotted keys (train.loops,
// model.core), values as the CSV export writes them: strings bare, numbers
// as written, lists as JSON.
func FlatConfig(raw json.RawMessage) (map[string]string, error) {
	return flattenJSON(raw)
}
