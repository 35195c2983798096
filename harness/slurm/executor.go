package slurm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/results"
)

// Executor trains a grid on a Slurm cluster: one job array over the
// runs left to do, each array task writing its own shard database, merged
// into the main database by Collect. Slurm does the scheduling; the
// harness only lists the work and folds the results back.
type Executor struct {
	// Store is the main results database, on the shared filesystem.
	Store *results.Store
	// Dir holds the submission folders (default: slurm/ beside the
	// database); RunsDir the per-run folders with checkpoints and CacheDir
	// the dataset cache. All three must be on the shared filesystem.
	Dir      string
	RunsDir  string
	CacheDir string
	Options  Options
	// RetryFailed puts the grid's failed runs back to pending first, so
	// the array holds them again.
	RetryFailed bool
}

// Submission is what Submit did.
type Submission struct {
	Dir   string // the submission folder ("" when nothing was submitted)
	Job   string // the array job id ("" when nothing was submitted)
	Array string // the --array range, "0-5%2"
	GPUs  int    // --gpus-per-task
	// Where the grid stood: Total runs, Done before, InFlight queued or
	// running elsewhere (in an array, or under a live `harness run`),
	// Failed and not retried, Runs submitted now.
	Total, Done, InFlight, Failed, Runs int
	// Collected is what merging the ended arrays' shards first brought in.
	Collected CollectReport

	ids       []string          // the grid's runs, in order
	submitted []string          // the runs in the array
	labels    map[string]string // their varying keys, for Summary
	// sourceDirs is where each run's relative task.source resolves.
	sourceDirs map[string]string
}

// Submit plans the grid in the main database, merges the shards of arrays
// that have ended, and submits one array over the runs that are neither
// done nor in an array still queued or running. Nothing is submitted (Job
// is "") when no run is left.
func (e *Executor) Submit(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) (*Submission, error) {
	sub, err := e.submit(ctx, g, runs)
	if err != nil {
		return sub, fmt.Errorf("submit grid %s to slurm: %w", g.Name, err)
	}
	return sub, nil
}

func (e *Executor) submit(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) (*Submission, error) {
	if _, err := exec.LookPath("sbatch"); err != nil {
		return nil, fmt.Errorf("sbatch: %w", ErrNoSlurm)
	}
	for _, p := range []string{harness.AbsPath(e.Dir), harness.AbsPath(e.Options.WorkDir)} {
		if strings.ContainsAny(p, " \t\n") {
			return nil, fmt.Errorf("folder %q: #SBATCH lines cannot quote whitespace in paths", p)
		}
	}
	sub, grid, err := e.prepare(ctx, g, runs)
	if err != nil {
		return sub, err
	}
	list, history, cuda, err := e.pick(ctx, sub, grid, runs)
	if err != nil || sub.Runs == 0 {
		return sub, err
	}
	if sub.Dir, err = newSubmissionDir(e.Dir, g.Name); err != nil {
		return sub, err
	}
	for _, i := range history {
		if err := e.seed(ctx, sub.Dir, list, i); err != nil {
			return sub, err
		}
	}
	return sub, e.sbatch(ctx, sub, list, cuda)
}

// prepare plans the grid in the main database, merges the shards of ended
// arrays and, with RetryFailed, puts failed runs back to pending.
func (e *Executor) prepare(ctx context.Context, g *experiments.Grid, runs []experiments.RunSpec) (*Submission, results.Grid, error) {
	ids, grid, planned, err := planGrid(g, runs)
	if err != nil {
		return nil, grid, err
	}
	if err := e.Store.Plan(ctx, grid, planned); err != nil {
		return nil, grid, err
	}
	sub := &Submission{Total: len(runs), ids: ids, labels: map[string]string{}, sourceDirs: map[string]string{}}
	keys, rows := harness.VaryingTable(runs)
	for i, spec := range runs {
		sub.labels[spec.ID] = harness.Label(keys, rows[i])
		sub.sourceDirs[spec.ID] = harness.AbsPath(cmp.Or(g.SourceDir(spec), "."))
	}
	if sub.Collected, err = Collect(ctx, e.Store, e.Dir, nil); err != nil {
		return sub, grid, err
	}
	if e.RetryFailed {
		if _, err := e.Store.Requeue(ctx, ids, results.Failed); err != nil {
			return sub, grid, err
		}
	}
	return sub, grid, nil
}

// pick lists the runs to submit, in grid order: not done, not failed, not
// in an array still queued or running, not held by a live `harness run`.
// history are the list indexes of runs with earlier attempts; cuda says
// whether a listed run trains on a GPU.
func (e *Executor) pick(ctx context.Context, sub *Submission, grid results.Grid, runs []experiments.RunSpec) (list *RunList, history []int, cuda bool, err error) {
	inFlight, err := e.inFlight(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	stored, err := e.Store.Runs(ctx, sub.ids)
	if err != nil {
		return nil, nil, false, err
	}
	byID := make(map[string]results.Run, len(stored))
	for _, r := range stored {
		byID[r.ID] = r
	}
	list = &RunList{Grid: ListGrid(grid), DB: harness.AbsPath(e.Store.Path()), RunsDir: harness.AbsPath(e.RunsDir), CacheDir: harness.AbsPath(e.CacheDir)}
	stale := time.Now().Add(-harness.DefaultLeaseTimeout)
	for _, spec := range runs {
		switch r := byID[spec.ID]; {
		case r.Status == results.Done:
			sub.Done++
		case inFlight[r.ID], r.Status == results.Running && r.Heartbeat.After(stale):
			sub.InFlight++
		case r.Status == results.Failed:
			sub.Failed++
		default:
			if r.Attempts > 0 {
				history = append(history, len(list.Runs))
			}
			cuda = cuda || spec.Train.Device.IsCUDA()
			list.Runs = append(list.Runs, ListedRun{ID: r.ID, Label: sub.labels[r.ID], SourceDir: sub.sourceDirs[r.ID],
				Threads: spec.Train.Threads, Config: r.Config})
			sub.submitted = append(sub.submitted, r.ID)
		}
	}
	sub.Runs = len(list.Runs)
	return list, history, cuda, nil
}

// sbatch writes the run list and the batch script into the submission
// folder and submits the array.
func (e *Executor) sbatch(ctx context.Context, sub *Submission, list *RunList, cuda bool) error {
	if err := WriteRunList(filepath.Join(sub.Dir, listFile), list); err != nil {
		return err
	}
	o := e.Options
	o.Harness, o.WorkDir = harness.AbsPath(o.Harness), harness.AbsPath(o.WorkDir)
	if o.CPUsPerTask <= 0 {
		o.CPUsPerTask = DefaultCPUsPerTask
	}
	sub.GPUs = gpusFor(o, cuda)
	sub.Array = arrayRange(sub.Runs, o.ArrayParallelism)
	script := filepath.Join(sub.Dir, scriptFile)
	if err := writeFileAtomic(script, []byte(BatchScript(o, list, sub.Dir, sub.GPUs)), 0o755); err != nil {
		return fmt.Errorf("write batch script: %w", err)
	}
	job, err := sbatch(ctx, script)
	if err != nil {
		return err
	}
	sub.Job = job
	if err := writeFileAtomic(filepath.Join(sub.Dir, jobFile), []byte(job+"\n"), 0o644); err != nil {
		return fmt.Errorf("record job %s: %w", job, err)
	}
	return nil
}

// planGrid turns the expansion into what the store plans.
func planGrid(g *experiments.Grid, runs []experiments.RunSpec) ([]string, results.Grid, []results.NewRun, error) {
	ids := make([]string, len(runs))
	planned := make([]results.NewRun, len(runs))
	for i, spec := range runs {
		cfg, err := spec.CanonicalJSON()
		if err != nil {
			return nil, results.Grid{}, nil, fmt.Errorf("run %s: %w", experiments.ShortID(spec.ID), err)
		}
		ids[i] = spec.ID
		planned[i] = results.NewRun{ID: spec.ID, Seed: spec.Seed, Config: cfg}
	}
	grid := results.Grid{Name: g.Name, Title: g.Title, Description: g.Description, Path: harness.AbsPath(g.Path)}
	return ids, grid, planned, nil
}

// seed writes seed-<i>.db with run i's history from the main database,
// so the task that continues it keeps the curve it had (a merge takes a
// run's furthest copy whole, and the task's shard would otherwise hold
// only the steps after the checkpoint).
func (e *Executor) seed(ctx context.Context, dir string, l *RunList, i int) error {
	name := fmt.Sprintf("seed-%d.db", i)
	s, err := results.Open(ctx, filepath.Join(dir, name))
	if err != nil {
		return err
	}
	_, err = s.MergeRuns(ctx, e.Store.Path(), []string{l.Runs[i].ID})
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seed run %s: %w", experiments.ShortID(l.Runs[i].ID), err)
	}
	l.Runs[i].Seed = name
	return nil
}

// newSubmissionDir creates a fresh submission folder, <grid>-<time>.
func newSubmissionDir(parent, grid string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create slurm folder: %w", err)
	}
	base := filepath.Join(harness.AbsPath(parent), grid+"-"+time.Now().Format("20060102-150405"))
	for n := 1; ; n++ {
		dir := base
		if n > 1 {
			dir = fmt.Sprintf("%s-%d", base, n)
		}
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrExist) || n > 100 {
			return "", fmt.Errorf("create submission folder: %w", err)
		}
	}
}

// inFlight returns the runs whose array task is still queued or running.
func (e *Executor) inFlight(ctx context.Context) (map[string]bool, error) {
	subs, err := findSubmissions(e.Dir, e.Store.Path())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, s := range subs {
		active, err := squeueStates(ctx, s.pending())
		if err != nil {
			return nil, err
		}
		for el := range active {
			if el.Index >= 0 && el.Index < len(s.list.Runs) {
				out[s.list.Runs[el.Index].ID] = true
			}
		}
	}
	return out, nil
}

func arrayRange(n, parallel int) string {
	if parallel > 0 {
		return fmt.Sprintf("0-%d%%%d", n-1, parallel)
	}
	return fmt.Sprintf("0-%d", n-1)
}

// DefaultDir is where submissions for the database at db go: slurm/
// beside it.
func DefaultDir(db string) string {
	return filepath.Join(filepath.Dir(db), "slurm")
}
