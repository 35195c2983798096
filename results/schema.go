package results

// The schema is a list of numbered migrations. Each one runs once, in order,
// inside the same BEGIN IMMEDIATE transaction that records it in
// schema_migrations, so processes that open a fresh file at the same moment
// (a Slurm array starting) cannot race on it (hydraflow #245 is that race in
// MLflow). Never edit a released migration; append a new one.
//
// Conventions: times are unix milliseconds (lease arithmetic is then plain
// integer comparison); runs are joined on an integer key so the large tables
// do not repeat a 64-character hash per row; a NULL metric or eval value is a
// NaN, because SQLite stores NaN as NULL and a diverged loss is worth keeping.

// migration is one numbered schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations is the schema history. Version 2 was split from version 1 so
// that the upgrade path (an older file opened by a newer binary) is exercised
// from the first release on.
var migrations = []migration{
	{1, "core tables", `
CREATE TABLE grids (
	name        TEXT PRIMARY KEY,
	title       TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	path        TEXT NOT NULL DEFAULT '',
	planned_at  INTEGER NOT NULL
);

CREATE TABLE runs (
	key             INTEGER PRIMARY KEY,
	id              TEXT NOT NULL UNIQUE,
	config          TEXT NOT NULL,
	seed            INTEGER NOT NULL,
	status          TEXT NOT NULL DEFAULT 'pending'
	                CHECK (status IN ('pending', 'running', 'done', 'failed', 'interrupted')),
	lease_owner     TEXT NOT NULL DEFAULT '',
	heartbeat_at    INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	wall_seconds    REAL NOT NULL DEFAULT 0,
	started_at      INTEGER NOT NULL DEFAULT 0,
	finished_at     INTEGER NOT NULL DEFAULT 0,
	checkpoint_step INTEGER NOT NULL DEFAULT -1,
	created_at      INTEGER NOT NULL
);
CREATE INDEX runs_status ON runs (status);

-- A run belongs to every grid that expanded to it; current marks the runs
-- of the grid's latest plan, in plan order.
CREATE TABLE grid_runs (
	grid     TEXT NOT NULL REFERENCES grids (name) ON DELETE CASCADE,
	run      INTEGER NOT NULL REFERENCES runs (key) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	current  INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (grid, run)
) WITHOUT ROWID;
CREATE INDEX grid_runs_run ON grid_runs (run);

CREATE TABLE metrics (
	run   INTEGER NOT NULL REFERENCES runs (key) ON DELETE CASCADE,
	name  TEXT NOT NULL,
	step  INTEGER NOT NULL,
	value REAL,
	PRIMARY KEY (run, name, step)
) WITHOUT ROWID;

CREATE TABLE evals (
	run   INTEGER NOT NULL REFERENCES runs (key) ON DELETE CASCADE,
	step  INTEGER NOT NULL,
	loops INTEGER NOT NULL,
	name  TEXT NOT NULL,
	value REAL,
	PRIMARY KEY (run, step, loops, name)
) WITHOUT ROWID;

CREATE TABLE artifacts (
	run        INTEGER NOT NULL REFERENCES runs (key) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	path       TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	bytes      INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (run, kind, path)
) WITHOUT ROWID;
`},
	{2, "provenance", `
-- id is the sha256 of the other columns, so shards from different machines
-- merge without renumbering and identical environments share one row.
CREATE TABLE provenance (
	id               TEXT PRIMARY KEY,
	git_commit       TEXT NOT NULL,
	git_dirty        INTEGER NOT NULL,
	go_version       TEXT NOT NULL,
	libtorch_version TEXT NOT NULL,
	libtorch_abi     TEXT NOT NULL,
	host             TEXT NOT NULL,
	cpu_model        TEXT NOT NULL,
	threads          INTEGER NOT NULL,
	info             TEXT NOT NULL DEFAULT '{}'
);
ALTER TABLE runs ADD COLUMN provenance TEXT REFERENCES provenance (id);
`},
	{3, "crash count", `
-- Attempts whose process died while training the run (a segfault or abort
-- inside libtorch, the OOM killer, kill -9). A run that keeps taking its
-- process down is failed after Store.CrashLimit of them instead of being
-- claimed again forever; --retry-failed starts the count afresh.
ALTER TABLE runs ADD COLUMN crashes INTEGER NOT NULL DEFAULT 0;
`},
}
