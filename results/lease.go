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
// expiry; runs that crashed before come after the others, so one run that
// keeps killing its process does not hold the rest of the grid back. Taking
// over a run whose heartbeat lapsed counts a crashed attempt, and a run that
// reaches the crash limit that way is failed rather than claimed. Claim
// returns ErrNoRun when there is no run to take.
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
	var (
		key int64
		run Run
	)
	for {
		row := tx.QueryRowContext(ctx, `SELECT r.key, `+runColumns+`
			FROM json_each(?) j JOIN runs r ON r.id = j.value
			WHERE r.status IN ('pending', 'interrupted') OR (r.status = 'running' AND r.heartbeat_at < ?)
			ORDER BY r.crashes, j.key LIMIT 1`, list, now.Add(-expiry).UnixMilli())
		run, err = scanRun(keyScanner{&key, row})
		if errors.Is(err, sql.ErrNoRows) {
			if err := tx.Commit(); err != nil { // keep the runs failed on the way
				return nil, fmt.Errorf("claim run: %w", err)
			}
			return nil, ErrNoRun
		}
		if err != nil {
			return nil, fmt.Errorf("claim run: %w", err)
		}
		if run.Status != Running {
			break
		}
		reason := fmt.Sprintf("its process (%s) stopped sending heartbeats", run.LeaseOwner)
		st, err := s.recordCrash(ctx, tx, key, run.Crashes, reason)
		if err != nil {
			return nil, fmt.Errorf("claim run %s: %w", run.ID, err)
		}
		if st == Interrupted {
			run.Crashes++
			break
		}
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

// Expire records that the process holding a run as owner died while
// training it (reason says how, as far as is known): a crashed attempt. The
// run becomes interrupted, to be claimed again, or failed once it has
// crashed CrashLimit times. It returns the new status, or "" when owner no
// longer holds the run.
func (s *Store) Expire(ctx context.Context, id, owner, reason string) (Status, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	defer tx.Rollback()
	var key int64
	var crashes int
	err = tx.QueryRowContext(ctx, `SELECT key, crashes FROM runs WHERE id = ? AND lease_owner = ? AND status = 'running'`,
		id, owner).Scan(&key, &crashes)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	st, err := s.recordCrash(ctx, tx, key, crashes, reason)
	if err != nil {
		return "", fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("expire lease on run %s: %w", id, err)
	}
	return st, nil
}

// recordCrash counts one more crashed attempt of the run with this key
// (which had crashes before it) and releases it: interrupted while under the
// crash limit, failed with the reason at it.
func (s *Store) recordCrash(ctx context.Context, tx *sql.Tx, key int64, crashes int, reason string) (Status, error) {
	crashes++
	st, msg := Interrupted, "the attempt crashed: "+reason
	if crashes >= s.CrashLimitOrDefault() {
		st, msg = Failed, fmt.Sprintf("crashed %d times: %s", crashes, reason)
	}
	_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, lease_owner = '', crashes = ?, error = ?,
		finished_at = ? WHERE key = ?`, string(st), crashes, msg, time.Now().UnixMilli(), key)
	return st, err
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
