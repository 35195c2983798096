package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"outerloop/experiments"
	"outerloop/results"
)

// ErrRunsFailed is wrapped by Scheduler.Run's error when runs of the grid
// are failed at the end (the command exits 1).
var ErrRunsFailed = errors.New("some runs failed")

// DefaultLeaseTimeout is how long a run's holder may go without a
// heartbeat before another process takes the run over. Heartbeats come
// from their own goroutine every quarter of it, whatever the trainer does,
// so only a frozen or dead process misses it.
const DefaultLeaseTimeout = time.Minute

// Scheduler trains a grid's runs on a local worker pool. Several
// schedulers (processes, machines sharing the file) may run the same grid
// on one database: leases keep them from training the same run.
type Scheduler struct {
	Store   *results.Store
	Trainer Trainer
	// Jobs is how many runs train at once (default 1).
	Jobs int
	// Threads fixes each run's libtorch thread count when the run's
	// train.threads does not; 0 lets runs share the host's cores (start
	// with one thread, grow to cores / Jobs while no other run waits).
	Threads int
	// ThreadPool is the folder through which runs on this host share its
	// cores ("" = one per user and cpuset under the temporary folder;
	// "off" = no sharing: each run takes cores / Jobs threads).
	ThreadPool string
	// Cores is how many cores the runs may use (0: UsableCores).
	Cores int
	// LeaseTimeout: see DefaultLeaseTimeout (used when 0).
	LeaseTimeout time.Duration
	// RetryFailed puts the grid's failed runs back to pending first.
	RetryFailed bool
	// RunsDir holds one folder per run, named by run id, for checkpoints
	// and artifacts; CacheDir is the dataset cache.
	RunsDir  string
	CacheDir string
	// CrashDir receives this process's crash report while it trains, so
	// the next start can say why a run's process died (default: .crashes
	// inside RunsDir).
	CrashDir string
	// SourceDir, when set, says where a run's relative task.source
	// resolves instead of the grid (a Slurm task reads it from its run
	// list, which recorded Grid.SourceDir at submission).
	SourceDir func(experiments.RunSpec) string
	// Events receives progress events (nil: none).
	Events EventSink
}

// gridRun is one Scheduler.Run in progress.
type gridRun struct {
	*Scheduler
	grid    *experiments.Grid
	ids     []string
	specs   map[string]experiments.RunSpec
	labels  map[string]string
	owner   string // "host/pid/nonce"; workers append "/wN"
	host    string
	beat    time.Duration
	threads int
	prov    results.Provenance

	crash *crashLog
	gate  soloGate    // runs that crashed before train alone
	pool  *threadPool // nil when sharing is off
	cores Cores

	mu      sync.Mutex
	provIDs map[int]string // provenance id by thread budget
	sum     Summary
	err     error // the first error that stopped a worker
}

// Run plans the grid's runs in the store and trains every run that is not
// done, until none is left or ctx is cancelled. Runs interrupted earlier,
// or held by a process that died, are resumed (the trainer picks up its
// checkpoint). A cancelled ctx marks the runs in flight interrupted after
// flushing what they recorded, and Run returns an error wrapping
// ctx.Err(); failed runs give an error wrapping ErrRunsFailed.
func (s *Scheduler) Run(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) (Summary, error) {
	r, err := s.start(ctx, g, runs)
	if err != nil {
		return Summary{}, fmt.Errorf("run grid %s: %w", g.Name, err)
	}
	stopWatch := context.AfterFunc(ctx, func() { r.emit(Event{Kind: EventStopping}) })
	defer stopWatch()
	defer r.crash.close()
	var wg sync.WaitGroup
	for w := 1; w <= r.Jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.worker(ctx, w); err != nil {
				r.mu.Lock()
				if r.err == nil {
					r.err = err
				}
				r.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return r.finish(ctx)
}

// start checks the settings, plans the runs and announces them.
func (s *Scheduler) start(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) (*gridRun, error) {
	if s.Store == nil || s.Trainer == nil {
		return nil, errors.New("scheduler needs a Store and a Trainer")
	}
	if s.RunsDir == "" {
		return nil, errors.New("scheduler needs a RunsDir")
	}
	sc := *s
	sc.Jobs = max(sc.Jobs, 1)
	if sc.LeaseTimeout <= 0 {
		sc.LeaseTimeout = DefaultLeaseTimeout
	}
	if sc.CrashDir == "" {
		sc.CrashDir = filepath.Join(sc.RunsDir, ".crashes")
	}
	if sc.Events == nil {
		sc.Events = Tee()
	}
	r := &gridRun{Scheduler: &sc, grid: g, specs: map[string]experiments.RunSpec{}, provIDs: map[int]string{},
		host: hostKey(), beat: max(sc.LeaseTimeout/4, 10*time.Millisecond),
		threads: sc.Threads, labels: map[string]string{}}
	r.cores = UsableCores()
	if sc.Cores > 0 {
		r.cores = Cores{N: sc.Cores, Limit: "Scheduler.Cores"}
	}
	if r.threads <= 0 {
		r.threads = max(r.cores.N/sc.Jobs, 1)
	}
	if sc.ThreadPool != "off" {
		var err error
		if r.pool, err = openThreadPool(cmp.Or(sc.ThreadPool, defaultPoolDir(r.cores)), r.cores.N); err != nil {
			return nil, err
		}
	}
	var err error
	if r.owner, err = newOwnerPrefix(); err != nil {
		return nil, err
	}
	r.crash = openCrashLog(sc.CrashDir, r.owner)
	planned := make([]results.NewRun, len(runs))
	keys, rows := VaryingTable(runs)
	for i, spec := range runs {
		cfg, err := spec.CanonicalJSON()
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", experiments.ShortID(spec.ID), err)
		}
		planned[i] = results.NewRun{ID: spec.ID, Seed: spec.Seed, Config: cfg}
		r.ids = append(r.ids, spec.ID)
		r.specs[spec.ID] = spec
		r.labels[spec.ID] = Label(keys, rows[i])
	}
	// The absolute path lets a report or the web UI started from another
	// folder find the grid file again.
	grid := results.Grid{Name: g.Name, Title: g.Title, Description: g.Description, Path: AbsPath(g.Path)}
	if err := sc.Store.Plan(ctx, grid, planned); err != nil {
		return nil, err
	}
	if sc.RetryFailed {
		if _, err := sc.Store.Requeue(ctx, r.ids, results.Failed); err != nil {
			return nil, err
		}
	}
	r.sum = Summary{Total: len(runs), Trained: map[results.Status]int{}}
	// Runs of a process on this machine that died are resumable now, in
	// their place in the grid, rather than after everything else.
	if _, _, err := r.expireDead(ctx); err != nil {
		r.crash.close()
		return nil, err
	}
	st, err := sc.Store.Statuses(ctx, r.ids)
	if err != nil {
		r.crash.close()
		return nil, err
	}
	failed := 0
	for _, s := range st {
		switch s {
		case results.Done:
			r.sum.AlreadyDone++
		case results.Failed: // left alone without --retry-failed
			failed++
		}
	}
	r.prov = collectProvenance(ctx, sc.Trainer.Info())
	r.emit(Event{Kind: EventPlanned, Total: len(runs), AlreadyDone: r.sum.AlreadyDone, ToRun: len(runs) - r.sum.AlreadyDone - failed})
	return r, nil
}

// finish reads where the grid stands and turns it into Run's error.
func (r *gridRun) finish(ctx context.Context) (Summary, error) {
	sum := r.sum
	st, err := r.Store.Statuses(context.WithoutCancel(ctx), r.ids)
	if err != nil {
		return sum, fmt.Errorf("run grid %s: %w", r.grid.Name, err)
	}
	sum.Final = map[results.Status]int{}
	for _, s := range st {
		sum.Final[s]++
	}
	switch {
	case ctx.Err() != nil:
		return sum, fmt.Errorf("run grid %s: interrupted: %w", r.grid.Name, ctx.Err())
	case r.err != nil:
		return sum, fmt.Errorf("run grid %s: %w", r.grid.Name, r.err)
	case sum.Final[results.Failed] > 0:
		return sum, fmt.Errorf("run grid %s: %d of %d runs failed: %w", r.grid.Name, sum.Final[results.Failed], sum.Total, ErrRunsFailed)
	}
	return sum, nil
}

func (r *gridRun) emit(e Event) {
	e.Time = time.Now()
	e.Grid = r.grid.Name
	r.Events.Observe(e)
}

// worker claims and trains runs until none is left. When the only runs
// left are leased by other processes it waits: they may finish, or die and
// be taken over. Leases of dead processes on this machine are expired at
// once.
func (r *gridRun) worker(ctx context.Context, w int) error {
	owner := fmt.Sprintf("%s/w%d", r.owner, w)
	waiting := false
	for ctx.Err() == nil {
		lease, err := r.Store.Claim(ctx, owner, r.ids, r.LeaseTimeout)
		if err == nil {
			waiting = false
			r.execute(ctx, w, lease)
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if !errors.Is(err, results.ErrNoRun) {
			return err
		}
		foreign, expired, err := r.expireDead(ctx)
		if err != nil {
			return err
		}
		if foreign == 0 {
			return nil
		}
		if expired > 0 {
			continue
		}
		if !waiting {
			r.emit(Event{Kind: EventWaiting, Worker: w, Held: foreign})
			waiting = true
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(r.beat, 2*time.Second)):
		}
	}
	return nil
}

// expireDead looks at the grid's runs leased by other processes and
// expires those whose holder was a process on this machine that is gone
// (killed, crashed): each counts a crashed attempt, with the cause its
// crash report gives. It returns how many runs other processes hold and
// how many of them it expired.
func (r *gridRun) expireDead(ctx context.Context) (foreign, expired int, err error) {
	held, err := r.Store.Held(ctx, r.ids)
	if err != nil {
		return 0, 0, err
	}
	for _, h := range held {
		if strings.HasPrefix(h.LeaseOwner, r.owner+"/") {
			continue // a sibling worker's: it will finish it
		}
		foreign++
		if deadLocalHolder(h.LeaseOwner, r.host, r.owner) {
			reason := crashReason(r.CrashDir, h.LeaseOwner)
			st, err := r.Store.Expire(ctx, h.ID, h.LeaseOwner, reason)
			if err != nil {
				return foreign, expired, err
			}
			if st == "" {
				continue
			}
			expired++
			msg := fmt.Sprintf("attempt %d crashed (%d of %d allowed): %s; resuming it", h.Attempts, h.Crashes+1, r.Store.CrashLimitOrDefault(), reason)
			if st == results.Failed {
				msg = fmt.Sprintf("failed: crashed %d times: %s (harness run --retry-failed trains it again)", h.Crashes+1, reason)
				r.mu.Lock()
				r.sum.Failures = append(r.sum.Failures, Failure{Run: h.ID, Label: r.labels[h.ID],
					Err: fmt.Sprintf("crashed %d times: %s", h.Crashes+1, reason)})
				r.mu.Unlock()
			}
			r.emit(Event{Kind: EventWarning, Run: h.ID, Label: r.labels[h.ID], Err: msg})
		}
	}
	return foreign, expired, nil
}

// AbsPath returns p made absolute ("" and unresolvable paths as they
// are): what the database and run lists record, so that a process started
// from another folder finds the files.
func AbsPath(p string) string {
	if p == "" {
		return p
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
