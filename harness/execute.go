package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"outerloop/experiments"
	"outerloop/results"
)

// execute trains one claimed run and records how the attempt ended.
func (r *gridRun) execute(ctx context.Context, w int, lease *results.Lease) {
	spec := r.specs[lease.Run.ID]
	label := r.labels[spec.ID]
	r.emit(Event{Kind: EventStarted, Worker: w, Run: spec.ID, Label: label, Attempt: lease.Run.Attempts + 1,
		Resumed: lease.Run.Status, FromStep: lease.Run.CheckpointStep})
	start := time.Now()
	out, lost := r.attempt(ctx, w, lease, spec)
	out.Wall = time.Since(start)
	// The run's context may be cancelled (Ctrl-C); recording the outcome
	// must still happen.
	bg := context.WithoutCancel(ctx)
	if !lost {
		if err := lease.Finish(bg, out); err != nil {
			lost = errors.Is(err, results.ErrLeaseLost)
			if !lost {
				r.emit(Event{Kind: EventWarning, Worker: w, Run: spec.ID, Label: label, Err: err.Error()})
			}
		}
	}
	if lost {
		r.emit(Event{Kind: EventWarning, Worker: w, Run: spec.ID, Label: label,
			Err: "lost the lease (this process stalled past the lease timeout and another took the run over); its attempt is discarded"})
		return
	}
	r.mu.Lock()
	r.sum.Trained[out.Status]++
	if out.Status == results.Failed {
		r.sum.Failures = append(r.sum.Failures, Failure{Run: spec.ID, Label: label, Err: out.Error})
	}
	r.mu.Unlock()
	r.emit(Event{Kind: EventFinished, Worker: w, Run: spec.ID, Label: label, Status: out.Status, Err: out.Error, Wall: out.Wall})
}

// attempt runs the trainer and classifies the result. lost reports that the
// lease was taken over, in which case nothing may be recorded.
func (r *gridRun) attempt(ctx context.Context, w int, lease *results.Lease, spec experiments.RunSpec) (out results.Outcome, lost bool) {
	bg := context.WithoutCancel(ctx)
	fail := func(err error) results.Outcome { return results.Outcome{Status: results.Failed, Error: err.Error()} }
	dir := filepath.Join(r.RunsDir, spec.ID)
	if lease.Run.Attempts == 0 {
		moved, err := setAside(dir, time.Now())
		if err != nil {
			return fail(err), false
		}
		if moved != "" {
			r.emit(Event{Kind: EventWarning, Worker: w, Run: spec.ID, Label: r.labels[spec.ID],
				Err: fmt.Sprintf("%s holds an attempt this results database never recorded (another database, or a deleted one): set aside as %s; training from step 0", dir, filepath.Base(moved))})
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(fmt.Errorf("create run folder: %w", err)), false
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	label := r.labels[spec.ID]
	var threads budgetReader = fixedBudget(0)
	rec := newRecorder(bg, lease, dir, cancel, func(e Event) {
		e.Worker, e.Run, e.Label, e.Threads = w, spec.ID, label, threads.current()
		r.emit(e)
	})
	// Both run once, on whichever return comes first.
	stop := sync.OnceFunc(r.heartbeat(bg, lease, cancel, w, spec.ID))
	defer stop()
	leave := sync.OnceFunc(r.gate.enter(lease.Run.Crashes > 0 && r.Jobs > 1))
	defer leave()
	b, err := r.budgetFor(runCtx, w, spec)
	if err != nil {
		return results.Outcome{Status: results.Interrupted, Error: "interrupted while waiting for a free core"}, false
	}
	defer b.release()
	threads = b
	if err := r.setProvenance(bg, lease, b.Threads()); err != nil {
		return fail(err), errors.Is(err, results.ErrLeaseLost)
	}
	err = r.train(runCtx, spec, Env{Threads: b.Threads(), Budget: b, Dir: dir, BaseDir: r.sourceDir(spec),
		CacheDir: r.CacheDir, Recorder: rec})
	b.release()
	leave()
	stop()
	rec.flush()
	switch cause := context.Cause(runCtx); {
	case errors.Is(cause, results.ErrLeaseLost):
		return results.Outcome{}, true
	case err == nil && rec.err != nil:
		return fail(fmt.Errorf("record results: %w", rec.err)), false
	case err == nil:
		return results.Outcome{Status: results.Done}, false
	case ctx.Err() != nil:
		return results.Outcome{Status: results.Interrupted, Error: "interrupted: " + err.Error()}, false
	}
	return fail(err), false
}

// train calls the trainer on a goroutine of its own, locked to one OS
// thread for the whole run: libtorch keeps grad mode and the intra-op
// thread count per OS thread (measured: docs/libtorch.md, "Threads"), so a
// goroutine that migrated between threads would lose its budget. The goroutine never unlocks, so its thread exits with it
// and that state cannot leak into the next run. A panic fails the run with
// its stack instead of killing the process and the other runs.
func (r *gridRun) train(ctx context.Context, spec experiments.RunSpec, env Env) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		var err error
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
			done <- err
		}()
		err = r.Trainer.Run(ctx, spec, env)
	}()
	return <-done
}

// heartbeat renews the lease every r.beat until stop is called. A lost
// lease cancels the run.
func (r *gridRun) heartbeat(ctx context.Context, lease *results.Lease, cancel context.CancelCauseFunc, w int, id string) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.beat)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			err := lease.Heartbeat(ctx)
			if errors.Is(err, results.ErrLeaseLost) {
				cancel(err)
				return
			}
			if err != nil {
				r.emit(Event{Kind: EventWarning, Worker: w, Run: id, Err: err.Error()})
			}
		}
	}()
	return func() { close(quit); <-done }
}

// setProvenance records the environment of this attempt, one provenance
// row per thread budget.
func (r *gridRun) setProvenance(ctx context.Context, lease *results.Lease, threads int) error {
	r.mu.Lock()
	id, ok := r.provIDs[threads]
	r.mu.Unlock()
	if !ok {
		p := r.prov
		p.Threads = threads
		var err error
		if id, err = r.Store.AddProvenance(ctx, p); err != nil {
			return err
		}
		r.mu.Lock()
		r.provIDs[threads] = id
		r.mu.Unlock()
	}
	return lease.SetProvenance(ctx, id)
}

// VaryingTable returns the keys whose values differ between runs and, for
// each run, its values of those keys, formatted for display.
func VaryingTable(runs []experiments.RunSpec) (keys []string, rows [][]string) {
	keys = experiments.Varying(runs)
	rows = make([][]string, len(runs))
	for i, spec := range runs {
		rows[i] = make([]string, len(keys))
		for j, k := range keys {
			v, err := spec.Get(k)
			if err != nil {
				rows[i][j] = "?"
				continue
			}
			if list, ok := v.([]string); ok {
				v = strings.Join(list, ",")
			}
			rows[i][j] = fmt.Sprint(v)
		}
	}
	return keys, rows
}

// Label joins keys and values as "k=v k=v".
func Label(keys, values []string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + values[i]
	}
	return strings.Join(parts, " ")
}

// setAside renames a run folder that is not empty to a dated sibling and
// returns the new name ("" when there was nothing to move). A run this
// database has never started must not resume from such a folder: its
// checkpoint came from an attempt whose metrics live elsewhere, so the
// resumed run would show a curve that starts at the checkpoint, and the
// weights may come from older code. Moving rather than deleting keeps
// whatever the researcher may still want.
func setAside(dir string, now time.Time) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("check run folder: %w", err)
	}
	to := fmt.Sprintf("%s.set-aside-%s", dir, now.UTC().Format("20060102T150405.000"))
	if err := os.Rename(dir, to); err != nil {
		return "", fmt.Errorf("set aside run folder: %w", err)
	}
	return to, nil
}

// sourceDir is where the run's relative task.source resolves.
func (r *gridRun) sourceDir(spec experiments.RunSpec) string {
	if r.SourceDir != nil {
		return r.SourceDir(spec)
	}
	return r.grid.SourceDir(spec)
}

// budgetFor takes the run's threads from the host's pool, waiting for a free
// core if there is none. A run with a fixed count (train.threads, or
// --threads) holds exactly that many; the others start with one and may
// grow to the scheduler's share (cores / jobs).
func (r *gridRun) budgetFor(ctx context.Context, w int, spec experiments.RunSpec) (budgetReader, error) {
	lo, hi := 1, r.threads
	if n := cmp.Or(spec.Train.Threads, r.Threads); n > 0 {
		lo, hi = n, n
	}
	if r.pool == nil {
		return fixedBudget(hi), nil
	}
	return r.pool.acquire(ctx, lo, hi, func() {
		r.emit(Event{Kind: EventQueued, Worker: w, Run: spec.ID, Label: r.labels[spec.ID]})
	})
}

// budgetReader is a run's thread budget as the scheduler sees it.
type budgetReader interface {
	ThreadBudget
	current() int // the count now, for progress events (any goroutine)
	release()
}

// fixedBudget is the budget of a scheduler without a thread pool.
type fixedBudget int

func (f fixedBudget) Threads() int { return int(f) }
func (f fixedBudget) current() int { return int(f) }
func (f fixedBudget) release()     {}
