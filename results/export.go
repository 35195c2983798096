package results

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Format is an export file format.
type Format string

// The export formats. CSV flattens each run's config into one column per
// dotted key (train.loops, model.core), so a spreadsheet or pandas gets the
// ablation axes as columns without parsing JSON; JSON Lines keeps the config
// nested.
const (
	CSV   Format = "csv"
	JSONL Format = "jsonl"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, JSONL:
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q (want csv or jsonl)", s)
}

// ExportedRun is one line of a runs export in JSON Lines.
type ExportedRun struct {
	ID             string          `json:"id"`
	Grids          []string        `json:"grids"`
	Seed           int64           `json:"seed"`
	Status         Status          `json:"status"`
	Attempts       int             `json:"attempts"`
	Error          string          `json:"error"`
	WallSeconds    float64         `json:"wall_seconds"`
	Started        string          `json:"started"`
	Finished       string          `json:"finished"`
	CheckpointStep int             `json:"checkpoint_step"`
	Provenance     *Provenance     `json:"provenance"`
	Config         json.RawMessage `json:"config"`
}

// runFilter restricts an export to a grid's current plan ("" = every run).
func runFilter(grid string) (string, []any) {
	if grid == "" {
		return `true`, nil
	}
	return `r.key IN (SELECT run FROM grid_runs WHERE grid = ? AND current = 1)`, []any{grid}
}

// ExportRuns writes the runs (of grid, or all when grid is "") with their
// status, provenance and config.
func (s *Store) ExportRuns(ctx context.Context, w io.Writer, f Format, grid string) error {
	runs, err := s.exportedRuns(ctx, grid)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if f == JSONL {
		enc := json.NewEncoder(bw)
		for _, r := range runs {
			if err := enc.Encode(r); err != nil {
				return fmt.Errorf("export runs: %w", err)
			}
		}
	} else if err := writeRunsCSV(bw, runs); err != nil {
		return fmt.Errorf("export runs: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export runs: %w", err)
	}
	return nil
}

func (s *Store) exportedRuns(ctx context.Context, grid string) ([]ExportedRun, error) {
	where, args := runFilter(grid)
	runs, err := s.queryRuns(ctx, "runs to export", `SELECT `+runColumns+` FROM runs r WHERE `+where+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, err
	}
	prov := map[string]*Provenance{}
	out := make([]ExportedRun, 0, len(runs))
	for _, r := range runs {
		grids, err := s.RunGrids(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		e := ExportedRun{ID: r.ID, Grids: grids, Seed: r.Seed, Status: r.Status, Attempts: r.Attempts,
			Error: r.Error, WallSeconds: r.Wall.Seconds(), Started: stamp(r.Started), Finished: stamp(r.Finished),
			CheckpointStep: r.CheckpointStep, Config: r.Config}
		if r.Provenance != "" {
			p, ok := prov[r.Provenance]
			if !ok {
				got, err := s.Provenance(ctx, r.Provenance)
				if err != nil {
					return nil, err
				}
				p = &got
				prov[r.Provenance] = p
			}
			e.Provenance = p
		}
		out = append(out, e)
	}
	return out, nil
}

// stamp formats a time for export: RFC 3339 in UTC, "" for none.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

var runHeader = []string{"id", "grids", "seed", "status", "attempts", "error", "wall_seconds", "started", "finished",
	"checkpoint_step", "git_commit", "git_dirty", "go_version", "libtorch_version", "libtorch_abi", "host",
	"cpu_model", "threads"}

func writeRunsCSV(w io.Writer, runs []ExportedRun) error {
	configs := make([]map[string]string, len(runs))
	keys := map[string]bool{}
	for i, r := range runs {
		flat, err := flattenJSON(r.Config)
		if err != nil {
			return fmt.Errorf("run %s: %w", r.ID, err)
		}
		configs[i] = flat
		for k := range flat {
			keys[k] = true
		}
	}
	configKeys := make([]string, 0, len(keys))
	for k := range keys {
		configKeys = append(configKeys, k)
	}
	sort.Strings(configKeys)
	cw := csv.NewWriter(w)
	header := append([]string{}, runHeader...)
	for _, k := range configKeys {
		header = append(header, "config."+k)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for i, r := range runs {
		rec := []string{r.ID, strings.Join(r.Grids, ";"), strconv.FormatInt(r.Seed, 10), string(r.Status),
			strconv.Itoa(r.Attempts), r.Error, formatFloat(r.WallSeconds), r.Started, r.Finished,
			strconv.Itoa(r.CheckpointStep)}
		if p := r.Provenance; p != nil {
			rec = append(rec, p.GitCommit, strconv.FormatBool(p.GitDirty), p.GoVersion, p.LibtorchVersion,
				p.LibtorchABI, p.Host, p.CPUModel, strconv.Itoa(p.Threads))
		} else {
			rec = append(rec, make([]string, len(runHeader)-len(rec))...)
		}
		for _, k := range configKeys {
			rec = append(rec, configs[i][k])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// flattenJSON turns a JSON object into dotted keys; arrays stay JSON text.
func flattenJSON(raw json.RawMessage) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	out := map[string]string{}
	var walk func(prefix string, v any) error
	walk = func(prefix string, v any) error {
		switch x := v.(type) {
		case map[string]any:
			for k, sub := range x {
				key := k
				if prefix != "" {
					key = prefix + "." + k
				}
				if err := walk(key, sub); err != nil {
					return err
				}
			}
		case string:
			out[prefix] = x
		case json.Number:
			out[prefix] = x.String()
		case nil:
			out[prefix] = ""
		default:
			b, err := json.Marshal(x)
			if err != nil {
				return err
			}
			out[prefix] = string(b)
		}
		return nil
	}
	return out, walk("", v)
}

// formatFloat writes the shortest exact form; NaN and ±Inf as Go spells
// them, which pandas and Go's strconv both read back.
func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// jsonFloat is a float that encodes NaN as null, since JSON has no NaN.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return []byte(formatFloat(float64(f))), nil
}

// ExportMetrics writes every metric row (of grid's runs, or all), ordered by
// run, name and step: columns run, name, step, value.
func (s *Store) ExportMetrics(ctx context.Context, w io.Writer, f Format, grid string) error {
	where, args := runFilter(grid)
	return s.exportRows(ctx, w, f, "metrics", []string{"run", "name", "step", "value"},
		`SELECT r.id, m.name, m.step, m.value FROM metrics m JOIN runs r ON r.key = m.run
		WHERE `+where+` ORDER BY r.id, m.name, m.step`, args,
		func(rows *sql.Rows) ([]any, error) {
			var (
				id, name string
				step     int64
				v        sql.NullFloat64
			)
			err := rows.Scan(&id, &name, &step, &v)
			return []any{id, name, step, jsonFloat(nanNull(v))}, err
		})
}

// ExportEvals writes every evaluation row (of grid's runs, or all): columns
// run, step, loops, name, value.
func (s *Store) ExportEvals(ctx context.Context, w io.Writer, f Format, grid string) error {
	where, args := runFilter(grid)
	return s.exportRows(ctx, w, f, "evals", []string{"run", "step", "loops", "name", "value"},
		`SELECT r.id, e.step, e.loops, e.name, e.value FROM evals e JOIN runs r ON r.key = e.run
		WHERE `+where+` ORDER BY r.id, e.step, e.name, e.loops`, args,
		func(rows *sql.Rows) ([]any, error) {
			var (
				id, name    string
				step, loops int64
				v           sql.NullFloat64
			)
			err := rows.Scan(&id, &step, &loops, &name, &v)
			return []any{id, step, loops, name, jsonFloat(nanNull(v))}, err
		})
}

// exportRows streams a query's rows as CSV or JSON Lines objects keyed by
// columns, without holding the table in memory.
func (s *Store) exportRows(ctx context.Context, w io.Writer, f Format, what string, columns []string,
	query string, args []any, scan func(*sql.Rows) ([]any, error)) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	defer rows.Close()
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	if f == CSV {
		if err := cw.Write(columns); err != nil {
			return fmt.Errorf("export %s: %w", what, err)
		}
	}
	rec := make([]string, len(columns))
	for rows.Next() {
		vals, err := scan(rows)
		if err != nil {
			return fmt.Errorf("export %s: %w", what, err)
		}
		if f == JSONL {
			if err := writeJSONObject(bw, columns, vals); err != nil {
				return fmt.Errorf("export %s: %w", what, err)
			}
			continue
		}
		for i, v := range vals {
			rec[i] = csvField(v)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export %s: %w", what, err)
	}
	return nil
}

func csvField(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case jsonFloat:
		return formatFloat(float64(x))
	}
	return fmt.Sprint(v)
}

// writeJSONObject writes one line {"col": val, ...} with keys in column
// order, which encoding/json's maps would sort instead.
func writeJSONObject(w *bufio.Writer, columns []string, vals []any) error {
	w.WriteByte('{')
	for i, c := range columns {
		if i > 0 {
			w.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(vals[i])
		if err != nil {
			return err
		}
		w.Write(k)
		w.WriteByte(':')
		w.Write(v)
	}
	w.WriteString("}\n")
	return nil
}
