package results

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// A read-only store serves viewers (harness serve) while `harness run`
// processes write the same file. In WAL mode a reader never blocks a
// writer, but a read transaction left open pins the WAL: checkpoints cannot
// pass the snapshot it reads, and the -wal file grows for as long as it
// stays open. So a read-only store runs only autocommit queries, each
// closing its rows before returning, and holds nothing between calls.

// readOnlyConns bounds the connections of a read-only store: enough for a
// browser's parallel requests, few enough that viewers cannot crowd out
// the training processes' CPU.
const readOnlyConns = 4

// readOnlyDSN opens the file with SQLite's mode=ro: no journal-mode pragma
// (setting it would be a write; the writers set WAL and it persists in the
// file) and no _txlock=immediate (BEGIN IMMEDIATE takes the write lock).
func readOnlyDSN(path string) string {
	return fmt.Sprintf("file:%s?mode=ro&_busy_timeout=%d&_foreign_keys=on", path, busyTimeout.Milliseconds())
}

// OpenReadOnly opens an existing results database for reading only. It
// never creates or migrates the file: one written by an older binary must
// be upgraded by a command that writes (harness ls opens it read-write),
// and one written by a newer binary is refused.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open results db %s: the path must not contain '?' or '#'", path)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open results db %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", readOnlyDSN(path))
	if err != nil {
		return nil, fmt.Errorf("open results db %s: %w", path, err)
	}
	db.SetMaxOpenConns(readOnlyConns)
	s := &Store{db: db, path: path}
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open results db %s read-only: %w", path, err)
	}
	switch latest := LatestSchemaVersion(); {
	case have > latest:
		err = fmt.Errorf("schema version %d is newer than this binary's %d: use a newer harness", have, latest)
	case have < latest:
		err = fmt.Errorf("schema version %d is older than this binary's %d: run `harness ls --db %s` once to upgrade it", have, latest, path)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open results db %s read-only: %w", path, err)
	}
	return s, nil
}
