package harness

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"outerloop/results"
)

// flushRows and flushEvery bound how much a crash can lose and how often a
// run writes: a batch of about a thousand rows takes a few milliseconds,
// so a run spends well under 1% of its time on SQLite.
const (
	flushRows  = 1000
	flushEvery = time.Second
)

// recorder is the harness's Recorder: it batches a run's rows and writes
// them through the run's lease, and forwards progress to the observer.
type recorder struct {
	ctx   context.Context // outlives the run's own context, so a Ctrl-C still flushes
	lease *results.Lease
	dir   string
	batch results.Batch
	last  time.Time
	err   error       // the first write error; the run cannot succeed after it
	lost  func(error) // called once when a write finds the lease gone
	event func(Event) // progress to the observer
	start int         // first step seen, for the ETA of a resumed run
}

func newRecorder(ctx context.Context, lease *results.Lease, dir string, lost func(error), event func(Event)) *recorder {
	return &recorder{ctx: ctx, lease: lease, dir: dir, last: time.Now(), lost: lost, event: event,
		batch: results.Batch{Checkpoint: results.NoCheckpoint}, start: -1}
}

// Metric records a training scalar.
func (r *recorder) Metric(step int, name string, value float64) {
	r.batch.Metrics = append(r.batch.Metrics, results.Metric{Step: step, Name: name, Value: value})
	r.maybeFlush()
}

// Eval records an evaluation result.
func (r *recorder) Eval(step, loops int, name string, value float64) {
	r.batch.Evals = append(r.batch.Evals, results.Eval{Step: step, Loops: loops, Name: name, Value: value})
	r.maybeFlush()
}

// Artifact hashes the file and records it at once. A path inside the run's
// folder is stored relative to it, so a database merged from another
// machine still names the file within that run's folder.
func (r *recorder) Artifact(kind, path string) error {
	abs := path
	if !filepath.IsAbs(path) {
		abs = filepath.Join(r.dir, path)
	}
	sum, size, err := hashFile(abs)
	if err != nil {
		return fmt.Errorf("record artifact %s: %w", path, err)
	}
	stored := abs
	if rel, err := filepath.Rel(r.dir, abs); err == nil && filepath.IsLocal(rel) {
		stored = rel
	}
	r.batch.Artifacts = append(r.batch.Artifacts, results.Artifact{Kind: kind, Path: stored, SHA256: sum,
		Bytes: size, Created: time.Now()})
	r.flush()
	if r.err != nil {
		return fmt.Errorf("record artifact %s: %w", path, r.err)
	}
	return nil
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// Checkpoint records that a checkpoint at step is on disk, with everything
// logged before it, in one transaction.
func (r *recorder) Checkpoint(step int) {
	r.batch.Checkpoint = step
	r.flush()
}

// Flush writes the rows recorded so far. The trainer calls it before it
// writes a checkpoint, so a crash can lose only the steps after the
// checkpoint it will resume from, which the resumed run logs again.
func (r *recorder) Flush() { r.flush() }

// Progress feeds the live view. It also flushes rows older than
// flushEvery, so a run that logs rarely still reaches the database soon.
func (r *recorder) Progress(step, total int, loss float64) {
	if r.start < 0 {
		r.start = step
	}
	r.event(Event{Kind: EventProgress, Step: step, Total: total, Loss: loss, FirstStep: r.start})
	r.maybeFlush()
}

func (r *recorder) maybeFlush() {
	if len(r.batch.Metrics)+len(r.batch.Evals) >= flushRows || time.Since(r.last) >= flushEvery {
		r.flush()
	}
}

// flush writes the batch. After a failed write the rows are dropped rather
// than retried: the error fails the run, which a rerun trains again.
func (r *recorder) flush() {
	b := r.batch
	r.batch = results.Batch{Checkpoint: results.NoCheckpoint}
	r.last = time.Now()
	if r.err != nil || (len(b.Metrics) == 0 && len(b.Evals) == 0 && len(b.Artifacts) == 0 && b.Checkpoint == results.NoCheckpoint) {
		return
	}
	if err := r.lease.Write(r.ctx, b); err != nil {
		r.err = err
		if errors.Is(err, results.ErrLeaseLost) {
			r.lost(err)
		}
	}
}
