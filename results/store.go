package results

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Store is an open results database. It is safe for concurrent use by many
// goroutines, and several processes may open the same file: every write
// transaction is BEGIN IMMEDIATE and waits on the busy timeout.
type Store struct {
	db   *sql.DB
	path string
	// CrashLimit is how many crashed attempts (see Expire) a run may have
	// before it is failed instead of claimed again; 0 means
	// DefaultCrashLimit. Set it before using the store.
	CrashLimit int
}

// DefaultCrashLimit is Store.CrashLimit's default (harness run
// --max-attempts).
const DefaultCrashLimit = 3

// CrashLimitOrDefault is the crash limit in effect.
func (s *Store) CrashLimitOrDefault() int {
	if s.CrashLimit > 0 {
		return s.CrashLimit
	}
	return DefaultCrashLimit
}

// ErrNotFound is returned by lookups of a run, grid or provenance record that
// is not in the database.
var ErrNotFound = errors.New("not found")

// busyTimeout is how long a connection waits for another writer before
// giving up with "database is locked". Writes are short (a metric batch is
// milliseconds), so reaching it means something is wrong, not busy.
const busyTimeout = 30 * time.Second

// dsn builds the connection string. The pragmas go in the DSN rather than
// through Exec because go-sqlite3 applies DSN pragmas to every pooled
// connection; _txlock=immediate takes the write lock at BEGIN, because a
// deferred transaction that upgrades from read to write fails with
// SQLITE_BUSY without waiting (docs/dependencies.md, "go-sqlite3": 1,019 of
// 1,600 transactions lost that way in a test, none with immediate).
func dsn(path string) string {
	return fmt.Sprintf("file:%s?_journal_mode=WAL&_busy_timeout=%d&_txlock=immediate&_foreign_keys=on&_synchronous=NORMAL",
		path, busyTimeout.Milliseconds())
}

// Open opens the results database at path, creating the file and its folder
// on first use, and brings its schema up to date. A database written by a
// newer binary (a schema version this one does not know) is refused.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open results db %s: the path must not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open results db %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open results db %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := retryBusy(ctx, func() error { return s.migrate(ctx, len(migrations)) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("open results db %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close results db %s: %w", s.path, err)
	}
	return nil
}

// Path is the database file the store was opened on.
func (s *Store) Path() string { return s.path }

// SchemaVersion is the newest migration recorded in the file.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// LatestSchemaVersion is the schema version this binary writes.
func LatestSchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate applies migrations up to and including version upTo. It is split
// from Open so a test can build an old-version file.
func (s *Store) migrate(ctx context.Context, upTo int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if latest := LatestSchemaVersion(); have > latest {
		return fmt.Errorf("schema version %d is newer than this binary's %d: use a newer harness", have, latest)
	}
	for _, m := range migrations {
		if m.version <= have || m.version > upTo {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %d (%s): %w", m.version, m.name, err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("record migration %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// retryBusy retries fn while SQLite reports the file busy. It is needed
// only when opening: while another process switches a fresh file to WAL or
// recovers its WAL index, SQLite answers SQLITE_BUSY at once instead of
// waiting on the busy timeout (four processes opening one new file at the
// same moment showed it).
func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := fn()
		var se sqlite3.Error
		if !errors.As(err, &se) || (se.Code != sqlite3.ErrBusy && se.Code != sqlite3.ErrLocked) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// millis converts a stored unix-millisecond time; 0 is the zero time.
func millis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// ErrInUse is returned by Relocate when a run in the database is running:
// a process may have the file open.
var ErrInUse = errors.New("a run in it is running")

// Relocate moves the database file at from, with its WAL and shared-memory
// files, to the path to (which must not exist). It refuses while any run
// is running, since a process holding the file open would go on writing to
// the old name.
func Relocate(ctx context.Context, from, to string) error {
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("move results db %s to %s: %s already exists", from, to, to)
	}
	s, err := Open(ctx, from)
	if err != nil {
		return fmt.Errorf("move results db %s: %w", from, err)
	}
	var running int
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE status = 'running'`).Scan(&running)
	if cerr := s.Close(); err == nil {
		err = cerr // closing the last connection checkpoints the WAL into the file
	}
	switch {
	case err != nil:
		return fmt.Errorf("move results db %s: %w", from, err)
	case running > 0:
		return fmt.Errorf("move results db %s: %w (%d runs); let it finish or pass --db %s", from, ErrInUse, running, from)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return fmt.Errorf("move results db %s: %w", from, err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		err := os.Rename(from+suffix, to+suffix)
		if err != nil && !(suffix != "" && errors.Is(err, os.ErrNotExist)) {
			return fmt.Errorf("move results db %s: %w", from, err)
		}
	}
	return nil
}
