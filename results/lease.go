package results

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// A lease is a process's claim to train one run. Claim takes it atomically
// (BEGIN IMMEDIATE: one writer at a time across processes), the holder
// renews it with heartbeats, and every write of the run's results checks it
// in the same transaction, so a holder that stalled and was taken over cannot
// write over its successor.

// ErrNoRun is returned by Claim when none of the runs can be claimed now.
var ErrNoRun = errors.New("no run to claim")

// ErrLeaseLost is returned by a Lease's methods when the run is no longer
// held by the lease's owner: another process took it over after the
// heartbeat lapsed, or it was finished.
var ErrLeaseLost = errors.New("lease lost")

// Lease is a held claim on one run.
type Lease struct {
	store *Store
	key   int64
	// Owner identifies the holder (host, pid and a nonce, chosen by the
	// caller).
	Owner string
	// Run is the run as it was just before the claim: its Status says
	// whether this is a first attempt (pending), a resume (interrupted, or
	// running under a holder that stopped heart-beating) or a retry.
	Run Run
}

// Claim takes the first run among ids, in their order, that is pending,
// interrupted, or running under a holder whose last heartbeat is older than
// expiry. It returns ErrNoRun when there is none.
func (s *Store) Claim(ctx context.Context, owner string, ids []string, expiry time.Duration) (*Lease, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim run: %w", err)
	}
	defer tx.Rollback()
	now := time.Now()
	row := tx.QueryRowContext(ctx, `SELECT r.key, `+runColumns+`
		FROM json_each(?) j JOIN runs r ON r.id = j.value
		WHERE r.status IN ('pending', 'interrupted') OR (r.status = 'running' AND r.heartbeat_at < ?)
		ORDER BY j.key LIMIT 1`, list, now.Add(-expiry).UnixMilli())
	var key int64
	run, err := scanRun(keyScanner{&key, row})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoRun
	}
	if err != nil {
		return nil, fmt.Errorf("claim run: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE runs SET status = 'running', lease_owner = ?, heartbeat_at = ?,
		attempts = attempts + 1, started_at = ?, finished_at = 0, error = '' WHERE key = ?`,
		owner, now.UnixMilli(), now.UnixMilli(), key)
	if err != nil {
		return nil, fmt.Errorf("claim run %s: %w", run.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim run %s: %w", run.ID, err)
	}
	return &Lease{store: s, key: key, Owner: owner, Run: run}, nil
}

// keyScanner scans a leading run key, then the runColumns.
type keyScanner struct {
	key *int64
	row *sql.Row
}

func (k keyScanner) Scan(dest ...any) error {
	return k.row.Scan(append([]any{k.key}, dest...)...)
}

// Held lists the runs among ids that are running, with their owners and
// heartbeats, so a caller can wait for them or expire holders it knows are
// dead (a process on this host that no longer exists).
func (s *Store) Held(ctx context.Context, ids []string) ([]Run, error) {
	list, err := idList(ids)
	if err != nil {
		return nil, err
	}
	return s.queryRuns(ctx, "held runs", `SELECT `+runColumns+`
		FROM json_each(?) j JOIN runs r ON r.id = j.value
		WHERE r.status = 'running' ORDER BY j.key`, list)
}

// Expire marks a run held by owner as interrupted, so it can be claimed at
// once. It is for holders known to be dead; it does nothing (and returns
// false) if owner no longer holds the run.
func (s *Store) Expire(ctx context.Context, id, owner string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', lease_owner = '',
		error = 'lease holder ' || lease_owner || ' died'
		WHERE id = ? AND lease_owner = ? AND status = 'running'`, id, owner)
	if err != nil {
		return false, fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	return n == 1, nil
}

// check fails with ErrLeaseLost unless the lease still holds the run; it
// renews the heartbeat in the same statement.
func (l *Lease) check(ctx context.Context, tx *sql.Tx) error {
	res, err := tx.ExecContext(ctx, `UPDATE runs SET heartbeat_at = ?
		WHERE key = ? AND lease_owner = ? AND status = 'running'`, time.Now().UnixMilli(), l.key, l.Owner)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrLeaseLost
	}
	return nil
}

// Heartbeat renews the lease.
func (l *Lease) Heartbeat(ctx context.Context) error {
	return l.inTx(ctx, "heartbeat", func(tx *sql.Tx) error { return nil })
}

// inTx runs fn in a transaction that first checks and renews the lease.
func (l *Lease) inTx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := l.store.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s run %s: %w", what, l.Run.ID, err)
	}
	defer tx.Rollback()
	if err := l.check(ctx, tx); err != nil {
		return fmt.Errorf("%s run %s: %w", what, l.Run.ID, err)
	}
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s run %s: %w", what, l.Run.ID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s run %s: %w", what, l.Run.ID, err)
	}
	return nil
}

// Outcome is how an attempt ended.
type Outcome struct {
	Status Status // Done, Failed or Interrupted
	Error  string // the reason, for Failed and Interrupted
	// Wall is this attempt's wall time; the run's wall time is the sum over
	// its attempts, the compute it really cost.
	Wall time.Duration
}

// Finish records how the attempt ended and releases the lease.
func (l *Lease) Finish(ctx context.Context, o Outcome) error {
	switch o.Status {
	case Done, Failed, Interrupted:
	default:
		return fmt.Errorf("finish run %s: status %q is not an end status", l.Run.ID, o.Status)
	}
	return l.inTx(ctx, "finish", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, lease_owner = '',
			wall_seconds = wall_seconds + ?, finished_at = ? WHERE key = ?`,
			string(o.Status), o.Error, o.Wall.Seconds(), time.Now().UnixMilli(), l.key)
		return err
	})
}

// SetProvenance records the environment that runs this attempt (see
// Store.AddProvenance).
func (l *Lease) SetProvenance(ctx context.Context, provenanceID string) error {
	return l.inTx(ctx, "set provenance of", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE runs SET provenance = ? WHERE key = ?`, provenanceID, l.key)
		return err
	})
}
