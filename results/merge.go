package results

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// MergeStats counts what one Merge source changed.
type MergeStats struct {
	Source  string
	Added   int // runs the destination did not have
	Updated int // runs whose source copy got further (done beats pending)
	Kept    int // runs the destination already had as far or further
}

// rankSQL is Status.rank as an SQL expression over a status column.
func rankSQL(col string) string {
	return `CASE ` + col + ` WHEN 'done' THEN 4 WHEN 'failed' THEN 3 WHEN 'interrupted' THEN 2
		WHEN 'running' THEN 1 ELSE 0 END`
}

// Merge folds the databases at srcs (shards from other machines or array
// tasks) into s. For each run the copy that got furthest wins whole — its
// row, metrics, evals and artifacts — because mixing two attempts' curves
// would plot a trajectory nobody trained; on a tie the destination's copy
// stays. Grids, plans and provenance are unioned. Merging the same shard
// again therefore changes nothing. Sources are upgraded to the current schema
// first, which writes to them if they are older.
func (s *Store) Merge(ctx context.Context, srcs ...string) ([]MergeStats, error) {
	var out []MergeStats
	for _, src := range srcs {
		st, err := s.mergeOne(ctx, src, nil)
		if err != nil {
			return out, fmt.Errorf("merge %s into %s: %w", src, s.path, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// MergeRuns is Merge restricted to the runs among ids: only they (with
// their metrics, evals, artifacts and plans) are copied, by the same rule.
// The Slurm executor uses it to hand a resubmitted run's history to the
// shard of the array task that continues it.
func (s *Store) MergeRuns(ctx context.Context, src string, ids []string) (MergeStats, error) {
	if ids == nil {
		ids = []string{}
	}
	st, err := s.mergeOne(ctx, src, ids)
	if err != nil {
		return st, fmt.Errorf("merge %d runs of %s into %s: %w", len(ids), src, s.path, err)
	}
	return st, nil
}

// mergeOne merges src; only (non-nil) limits it to those run ids.
func (s *Store) mergeOne(ctx context.Context, src string, only []string) (MergeStats, error) {
	st := MergeStats{Source: src}
	if err := s.sameFile(src); err != nil {
		return st, err
	}
	shard, err := Open(ctx, src)
	if err != nil {
		return st, err
	}
	if err := shard.Close(); err != nil {
		return st, err
	}
	// ATTACH binds to one connection and is refused inside a transaction,
	// so the merge holds a dedicated connection and attaches before BEGIN.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS src`, src); err != nil {
		return st, fmt.Errorf("attach: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE src`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return st, err
	}
	defer tx.Rollback()
	// The scope is every source run, or those of only; a JSON null means all.
	scope := "null"
	if only != nil {
		if scope, err = idList(only); err != nil {
			return st, err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE merge_scope AS SELECT id FROM src.runs
		WHERE json_type(?1) = 'null' OR id IN (SELECT value FROM json_each(?1))`, scope); err != nil {
		return st, fmt.Errorf("merge scope: %w", err)
	}
	if err := mergeTx(ctx, tx, &st); err != nil {
		return st, err
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE temp.merge_winners; DROP TABLE temp.merge_scope`); err != nil {
		return st, err
	}
	return st, tx.Commit()
}

// sameFile refuses to merge a database into itself, which would otherwise
// deadlock on its own write lock.
func (s *Store) sameFile(src string) error {
	a, errA := os.Stat(src)
	if errA != nil {
		return errA
	}
	b, errB := os.Stat(s.path)
	if errB == nil && os.SameFile(a, b) {
		return fmt.Errorf("it is the destination database")
	}
	return nil
}

// mergeSteps are run in order inside the merge transaction; the first three
// precede runs because runs and plans reference them.
var mergeSteps = []struct{ what, sql string }{
	{"provenance", `INSERT INTO main.provenance SELECT * FROM src.provenance WHERE true ON CONFLICT (id) DO NOTHING`},
	{"grids", `INSERT INTO main.grids (name, title, description, path, planned_at)
		SELECT name, title, description, path, planned_at FROM src.grids WHERE true ON CONFLICT (name) DO NOTHING`},
	{"winners", `CREATE TEMP TABLE merge_winners AS
		SELECT s.id AS id, d.id IS NULL AS added FROM src.runs s JOIN temp.merge_scope c ON c.id = s.id
		LEFT JOIN main.runs d ON d.id = s.id
		WHERE d.id IS NULL OR ` + rankSQL("s.status") + ` > ` + rankSQL("d.status")},
	{"runs", `INSERT INTO main.runs (id, config, seed, status, lease_owner, heartbeat_at, attempts, error,
			wall_seconds, started_at, finished_at, checkpoint_step, created_at, provenance, crashes)
		SELECT s.id, s.config, s.seed, s.status, s.lease_owner, s.heartbeat_at, s.attempts, s.error,
			s.wall_seconds, s.started_at, s.finished_at, s.checkpoint_step, s.created_at, s.provenance, s.crashes
		FROM src.runs s JOIN temp.merge_winners w ON w.id = s.id WHERE true
		ON CONFLICT (id) DO UPDATE SET status = excluded.status, lease_owner = excluded.lease_owner,
			heartbeat_at = excluded.heartbeat_at, attempts = excluded.attempts, error = excluded.error,
			wall_seconds = excluded.wall_seconds, started_at = excluded.started_at,
			finished_at = excluded.finished_at, checkpoint_step = excluded.checkpoint_step,
			provenance = excluded.provenance, crashes = excluded.crashes`},
	{"old metrics", `DELETE FROM main.metrics WHERE run IN
		(SELECT d.key FROM main.runs d JOIN temp.merge_winners w ON w.id = d.id)`},
	{"old evals", `DELETE FROM main.evals WHERE run IN
		(SELECT d.key FROM main.runs d JOIN temp.merge_winners w ON w.id = d.id)`},
	{"old artifacts", `DELETE FROM main.artifacts WHERE run IN
		(SELECT d.key FROM main.runs d JOIN temp.merge_winners w ON w.id = d.id)`},
	{"metrics", `INSERT INTO main.metrics (run, name, step, value)
		SELECT d.key, m.name, m.step, m.value FROM src.metrics m
		JOIN src.runs s ON s.key = m.run JOIN temp.merge_winners w ON w.id = s.id JOIN main.runs d ON d.id = s.id`},
	{"evals", `INSERT INTO main.evals (run, step, loops, name, value)
		SELECT d.key, e.step, e.loops, e.name, e.value FROM src.evals e
		JOIN src.runs s ON s.key = e.run JOIN temp.merge_winners w ON w.id = s.id JOIN main.runs d ON d.id = s.id`},
	{"artifacts", `INSERT INTO main.artifacts (run, kind, path, sha256, bytes, created_at)
		SELECT d.key, a.kind, a.path, a.sha256, a.bytes, a.created_at FROM src.artifacts a
		JOIN src.runs s ON s.key = a.run JOIN temp.merge_winners w ON w.id = s.id JOIN main.runs d ON d.id = s.id`},
	{"plans", `INSERT INTO main.grid_runs (grid, run, position, current)
		SELECT g.grid, d.key, g.position, g.current FROM src.grid_runs g
		JOIN src.runs s ON s.key = g.run JOIN temp.merge_scope c ON c.id = s.id JOIN main.runs d ON d.id = s.id WHERE true
		ON CONFLICT (grid, run) DO NOTHING`},
}

func mergeTx(ctx context.Context, tx *sql.Tx, st *MergeStats) error {
	for _, step := range mergeSteps {
		if _, err := tx.ExecContext(ctx, step.sql); err != nil {
			return fmt.Errorf("merge %s: %w", step.what, err)
		}
	}
	var total int
	err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(added), 0), (SELECT count(*) FROM temp.merge_scope)
		FROM temp.merge_winners`).Scan(&st.Updated, &st.Added, &total)
	if err != nil {
		return fmt.Errorf("count merged runs: %w", err)
	}
	st.Updated -= st.Added
	st.Kept = total - st.Added - st.Updated
	return nil
}
