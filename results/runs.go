package results

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where a run stands.
type Status string

// The run statuses. A run moves pending → running → done | failed |
// interrupted; interrupted and failed runs go back to running when resumed
// or retried.
const (
	Pending     Status = "pending"
	Running     Status = "running"
	Done        Status = "done"
	Failed      Status = "failed"
	Interrupted Status = "interrupted"
)

// rank orders statuses by how much a run has achieved, for Merge: a run
// done in one shard beats the same run pending in another.
func (s Status) rank() int {
	switch s {
	case Done:
		return 4
	case Failed:
		return 3
	case Interrupted:
		return 2
	case Running:
		return 1
	}
	return 0
}

// NoCheckpoint is Run.CheckpointStep before any checkpoint was recorded.
const NoCheckpoint = -1

// Grid describes a grid file as it was planned.
type Grid struct {
	Name        string
	Title       string
	Description string
	Path        string
}

// NewRun is a run to plan: its content hash, seed and canonical config JSON.
type NewRun struct {
	ID     string
	Seed   int64
	Config json.RawMessage
}

// Run is a run as stored.
type Run struct {
	ID             string
	Config         json.RawMessage
	Seed           int64
	Status         Status
	LeaseOwner     string
	Heartbeat      time.Time
	Attempts       int
	Error          string
	Wall           time.Duration
	Started        time.Time
	Finished       time.Time
	CheckpointStep int
	Provenance     string // provenance id of the last attempt; "" before one
	// Crashes counts attempts whose process died while training the run.
	Crashes int
}

// Plan records a grid and its expanded runs. New runs are inserted pending;
// runs already in the database (from this grid, an earlier plan or another
// grid with the same configuration) keep their status, so planning again is
// how a grid resumes. The given runs become the grid's current plan, in order.
func (s *Store) Plan(ctx context.Context, g Grid, runs []NewRun) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	defer tx.Rollback()
	now := time.Now().UnixMilli()
	_, err = tx.ExecContext(ctx, `INSERT INTO grids (name, title, description, path, planned_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET title = excluded.title, description = excluded.description,
			path = excluded.path, planned_at = excluded.planned_at`,
		g.Name, g.Title, g.Description, g.Path, now)
	if err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE grid_runs SET current = 0 WHERE grid = ?`, g.Name); err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	insRun, err := tx.PrepareContext(ctx, `INSERT INTO runs (id, config, seed, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	defer insRun.Close()
	link, err := tx.PrepareContext(ctx, `INSERT INTO grid_runs (grid, run, position, current)
		SELECT ?, key, ?, 1 FROM runs WHERE id = ?
		ON CONFLICT (grid, run) DO UPDATE SET position = excluded.position, current = 1`)
	if err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	defer link.Close()
	for i, r := range runs {
		if !json.Valid(r.Config) {
			return fmt.Errorf("plan grid %s: run %s: config is not valid JSON", g.Name, r.ID)
		}
		if _, err := insRun.ExecContext(ctx, r.ID, string(r.Config), r.Seed, now); err != nil {
			return fmt.Errorf("plan grid %s: insert run %s: %w", g.Name, r.ID, err)
		}
		if _, err := link.ExecContext(ctx, g.Name, i, r.ID); err != nil {
			return fmt.Errorf("plan grid %s: link run %s: %w", g.Name, r.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("plan grid %s: %w", g.Name, err)
	}
	return nil
}

// Requeue sets the runs among ids that are in status from back to pending
// and returns how many it changed (harness run --retry-failed). Their crash
// count starts again, so a run failed for crashing gets CrashLimit more
// attempts.
func (s *Store) Requeue(ctx context.Context, ids []string, from Status) (int, error) {
	list, err := idList(ids)
	if err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'pending', lease_owner = '', crashes = 0
		WHERE status = ? AND id IN (SELECT value FROM json_each(?))`, string(from), list)
	if err != nil {
		return 0, fmt.Errorf("requeue %s runs: %w", from, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("requeue %s runs: %w", from, err)
	}
	return int(n), nil
}

// Statuses returns the status of each of ids that is in the database; ids
// not yet planned are absent from the map.
func (s *Store) Statuses(ctx context.Context, ids []string) (map[string]Status, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, status FROM runs WHERE id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("read run statuses: %w", err)
	}
	defer rows.Close()
	out := make(map[string]Status, len(ids))
	for rows.Next() {
		var id, st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, fmt.Errorf("read run statuses: %w", err)
		}
		out[id] = Status(st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read run statuses: %w", err)
	}
	return out, nil
}

// idList encodes ids as a JSON array for json_each, which keeps the number
// of bound parameters at one however large the grid is.
func idList(ids []string) (string, error) {
	b, err := json.Marshal(ids)
	if err != nil {
		return "", fmt.Errorf("encode run ids: %w", err)
	}
	return string(b), nil
}

const runColumns = `r.id, r.config, r.seed, r.status, r.lease_owner, r.heartbeat_at, r.attempts, r.error,
	r.wall_seconds, r.started_at, r.finished_at, r.checkpoint_step, coalesce(r.provenance, ''), r.crashes`

// scanRun reads the columns of runColumns.
func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var (
		r                          Run
		config, status             string
		heartbeat, started, finish int64
		wall                       float64
	)
	err := sc.Scan(&r.ID, &config, &r.Seed, &status, &r.LeaseOwner, &heartbeat, &r.Attempts, &r.Error,
		&wall, &started, &finish, &r.CheckpointStep, &r.Provenance, &r.Crashes)
	if err != nil {
		return Run{}, err
	}
	r.Config = json.RawMessage(config)
	r.Status = Status(status)
	r.Heartbeat, r.Started, r.Finished = millis(heartbeat), millis(started), millis(finish)
	r.Wall = time.Duration(wall * float64(time.Second))
	return r, nil
}

func (s *Store) queryRuns(ctx context.Context, what, query string, args ...any) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return out, nil
}

// GridRuns returns the runs of a grid's latest plan, in plan order.
func (s *Store) GridRuns(ctx context.Context, grid string) ([]Run, error) {
	return s.queryRuns(ctx, "runs of grid "+grid, `SELECT `+runColumns+`
		FROM grid_runs g JOIN runs r ON r.key = g.run
		WHERE g.grid = ? AND g.current = 1 ORDER BY g.position`, grid)
}

// Runs returns the runs among ids that are in the database, in the order of
// ids. Reports use it with a grid's fresh expansion.
func (s *Store) Runs(ctx context.Context, ids []string) ([]Run, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	return s.queryRuns(ctx, "runs", `SELECT `+runColumns+`
		FROM json_each(?) j JOIN runs r ON r.id = j.value ORDER BY j.key`, list)
}

// FindRun returns the run whose id is id or starts with it (a short id as
// printed by harness plan). An ambiguous prefix is an error listing the
// candidates' count.
func (s *Store) FindRun(ctx context.Context, id string) (Run, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" || strings.Trim(id, "0123456789abcdef") != "" {
		return Run{}, fmt.Errorf("find run %q: %w (run ids are hexadecimal)", id, ErrNotFound)
	}
	runs, err := s.queryRuns(ctx, "run "+id, `SELECT `+runColumns+` FROM runs r
		WHERE r.id >= ? AND r.id < ? ORDER BY r.id LIMIT 2`, id, id+"g")
	if err != nil {
		return Run{}, err
	}
	switch len(runs) {
	case 0:
		return Run{}, fmt.Errorf("find run %s: %w", id, ErrNotFound)
	case 1:
		return runs[0], nil
	}
	return Run{}, fmt.Errorf("find run %s: %w", id, ErrAmbiguous)
}

// ErrAmbiguous is returned by FindRun for a prefix of more than one run id.
var ErrAmbiguous = errors.New("the prefix matches more than one run; give more digits")

// GridSummary is a grid with how many of its current runs are in each status.
type GridSummary struct {
	Grid
	Planned time.Time
	Counts  map[Status]int
	Total   int
}

// Grids lists every grid in the database, by name.
func (s *Store) Grids(ctx context.Context) ([]GridSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.name, g.title, g.description, g.path, g.planned_at,
			r.status, count(r.key)
		FROM grids g
		LEFT JOIN grid_runs gr ON gr.grid = g.name AND gr.current = 1
		LEFT JOIN runs r ON r.key = gr.run
		GROUP BY g.name, r.status ORDER BY g.name`)
	if err != nil {
		return nil, fmt.Errorf("list grids: %w", err)
	}
	defer rows.Close()
	var out []GridSummary
	for rows.Next() {
		var (
			g       GridSummary
			planned int64
			status  sql.NullString
			n       int
		)
		if err := rows.Scan(&g.Name, &g.Title, &g.Description, &g.Path, &planned, &status, &n); err != nil {
			return nil, fmt.Errorf("list grids: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != g.Name {
			g.Planned = millis(planned)
			g.Counts = map[Status]int{}
			out = append(out, g)
		}
		if status.Valid {
			last := &out[len(out)-1]
			last.Counts[Status(status.String)] += n
			last.Total += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list grids: %w", err)
	}
	return out, nil
}

// RunGrids returns the names of the grids a run belongs to.
func (s *Store) RunGrids(ctx context.Context, id string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT g.grid FROM grid_runs g JOIN runs r ON r.key = g.run
		WHERE r.id = ? ORDER BY g.grid`, id)
	if err != nil {
		return nil, fmt.Errorf("read grids of run %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("read grids of run %s: %w", id, err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read grids of run %s: %w", id, err)
	}
	return out, nil
}

// errNoRows maps sql.ErrNoRows to ErrNotFound.
func errNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
