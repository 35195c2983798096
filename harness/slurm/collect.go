package slurm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/results"
)

// submission is a submission folder as found on disk.
type submission struct {
	dir  string
	list *RunList
	job  string // the job Submit recorded; "" when none was
	// shards lists the array indexes with a shard, by job; a job
	// submitted by hand from the folder's script is known only this way.
	shards    map[string][]int
	collected map[string]bool
}

// findSubmissions lists the submission folders under dir that belong to the
// database at db, oldest first.
func findSubmissions(dir, db string) ([]*submission, error) {
	lists, err := filepath.Glob(filepath.Join(dir, "*", listFile))
	if err != nil {
		return nil, fmt.Errorf("find slurm submissions: %w", err)
	}
	slices.Sort(lists) // folder names start with the grid, then the time
	var out []*submission
	for _, path := range lists {
		l, err := ReadRunList(path)
		if err != nil {
			return nil, err
		}
		if !sameDB(l.DB, db) {
			continue
		}
		s := &submission{dir: filepath.Dir(path), list: l, shards: map[string][]int{}, collected: map[string]bool{}}
		if b, err := os.ReadFile(filepath.Join(s.dir, jobFile)); err == nil {
			s.job = strings.TrimSpace(string(b))
		}
		if b, err := os.ReadFile(filepath.Join(s.dir, collectedFile)); err == nil {
			for _, j := range strings.Fields(string(b)) {
				s.collected[j] = true
			}
		}
		shards, err := filepath.Glob(filepath.Join(s.dir, "shard-*-*.db"))
		if err != nil {
			return nil, fmt.Errorf("find shards: %w", err)
		}
		for _, sh := range shards {
			job, idx, ok := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(sh), "shard-"), ".db"), "-")
			if i, err := strconv.Atoi(idx); ok && err == nil && i >= 0 && i < len(l.Runs) {
				s.shards[job] = append(s.shards[job], i)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// sameDB reports whether two paths name one database file.
func sameDB(a, b string) bool {
	if harness.AbsPath(a) == harness.AbsPath(b) {
		return true
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// pending returns the folder's jobs that are not collected yet.
func (s *submission) pending() []string {
	var jobs []string
	if s.job != "" && !s.collected[s.job] {
		jobs = append(jobs, s.job)
	}
	for job := range s.shards {
		if job != s.job && !s.collected[job] {
			jobs = append(jobs, job)
		}
	}
	slices.Sort(jobs)
	return jobs
}

// indexes returns the array indexes job ran: all of the list for the job
// Submit made, those with a shard for one submitted by hand.
func (s *submission) indexes(job string) []int {
	if job == s.job {
		all := make([]int, len(s.list.Runs))
		for i := range all {
			all[i] = i
		}
		return all
	}
	return s.shards[job]
}

// CollectReport is what Collect did.
type CollectReport struct {
	Merged []results.MergeStats
	// Active counts array tasks still queued or running, whose shards were
	// left alone.
	Active int
	// Interrupted counts runs a task left running when it ended (killed
	// past its time limit, node failure): now interrupted, resumable.
	Interrupted int
	// Lost lists tasks that ended without recording their run; the run is
	// marked failed with a pointer to the task's log.
	Lost []string
	// Jobs are the arrays that ended and are now merged for good.
	Jobs []string
}

// Collect merges the shards of Slurm array tasks that have ended into the
// main database, for the given jobs or (none given) every job submitted
// from dir for this database. Merging is idempotent, so it is safe to run
// any time; shards of tasks still queued or running are left for later. An
// array whose tasks have all ended is marked collected and not read again.
// Without Slurm commands (results copied off the cluster) every shard is
// merged and nothing else is decided.
func Collect(ctx context.Context, store *results.Store, dir string, jobs []string) (CollectReport, error) {
	var rep CollectReport
	subs, err := findSubmissions(dir, store.Path())
	if err != nil {
		return rep, err
	}
	known := map[string]bool{}
	for _, s := range subs {
		known[s.job] = true
		for job := range s.shards {
			known[job] = true
		}
		var want []string
		for _, job := range s.pending() {
			if len(jobs) == 0 || slices.Contains(jobs, job) {
				want = append(want, job)
			}
		}
		if err := s.collect(ctx, store, want, &rep); err != nil {
			return rep, fmt.Errorf("collect %s: %w", s.dir, err)
		}
	}
	for _, job := range jobs {
		if !known[job] {
			return rep, fmt.Errorf("collect job %s: no submission of it for %s under %s", job, store.Path(), dir)
		}
	}
	return rep, nil
}

func (s *submission) collect(ctx context.Context, store *results.Store, jobs []string, rep *CollectReport) error {
	if len(jobs) == 0 {
		return nil
	}
	active, err := squeueStates(ctx, jobs)
	slurm := err == nil
	if err != nil && !errors.Is(err, ErrNoSlurm) {
		return err
	}
	for _, job := range jobs {
		ended := true
		// sacct's word on how tasks ended, read once and only for a lost task.
		var ends map[element]string
		slurmState := func(el element) string {
			if ends == nil {
				ends = sacctStates(ctx, job)
				if ends == nil {
					ends = map[element]string{}
				}
			}
			return ends[el]
		}
		for _, i := range s.indexes(job) {
			el := element{job, i}
			if active[el] != "" {
				rep.Active++
				ended = false
				continue
			}
			shard := ShardPath(s.dir, job, i)
			owner, err := mergeShard(ctx, store, shard, s.list.Runs[i].ID, rep)
			if err != nil {
				return err
			}
			if !slurm {
				continue
			}
			if err := s.settle(ctx, store, el, owner, slurmState, rep); err != nil {
				return err
			}
		}
		if slurm && ended {
			if err := s.markCollected(job); err != nil {
				return err
			}
			rep.Jobs = append(rep.Jobs, job)
		}
	}
	return nil
}

// mergeShard merges a task's shard, if it wrote one, and returns who held
// the run in it ("" when nobody did or there is no shard).
func mergeShard(ctx context.Context, store *results.Store, shard, id string, rep *CollectReport) (string, error) {
	if _, err := os.Stat(shard); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	sh, err := results.Open(ctx, shard)
	if err != nil {
		return "", err
	}
	runs, err := sh.Runs(ctx, []string{id})
	if cerr := sh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	stats, err := store.Merge(ctx, shard)
	rep.Merged = append(rep.Merged, stats...)
	if err != nil || len(runs) == 0 || runs[0].Status != results.Running {
		return "", err
	}
	return runs[0].LeaseOwner, nil
}

// settle decides a run whose array task has ended but left it unfinished:
// still held by the task (it was killed) → interrupted, so the next
// submission resumes it; never started or recorded → failed, pointing at
// the task's log.
func (s *submission) settle(ctx context.Context, store *results.Store, el element, owner string, slurmState func(element) string, rep *CollectReport) error {
	id := s.list.Runs[el.Index].ID
	runs, err := store.Runs(ctx, []string{id})
	if err != nil || len(runs) == 0 {
		return err
	}
	r := runs[0]
	switch {
	case r.Status == results.Running && owner != "" && r.LeaseOwner == owner:
		st, err := store.Expire(ctx, id, owner, fmt.Sprintf("slurm array task %s ended while training the run", el))
		if st == results.Interrupted {
			rep.Interrupted++
		}
		return err
	case r.Status != results.Pending:
		return nil
	}
	why := fmt.Sprintf("slurm array task %s ended without recording the run", el)
	if st := slurmState(el); st != "" {
		why += " (" + st + ")"
	}
	why += "; see " + filepath.Join(s.dir, fmt.Sprintf("log-%s-%d.out", el.Job, el.Index))
	lease, err := store.Claim(ctx, "slurm-collect/"+el.String(), []string{id}, time.Hour)
	if errors.Is(err, results.ErrNoRun) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := lease.Finish(ctx, results.Outcome{Status: results.Failed, Error: why}); err != nil {
		return err
	}
	rep.Lost = append(rep.Lost, fmt.Sprintf("%s (run %s)", el, experiments.ShortID(id)))
	return nil
}

func (s *submission) markCollected(job string) error {
	f, err := os.OpenFile(filepath.Join(s.dir, collectedFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("mark job %s collected: %w", job, err)
	}
	_, err = fmt.Fprintln(f, job)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mark job %s collected: %w", job, err)
	}
	s.collected[job] = true
	return nil
}

// RunState is where a run stands in a Slurm array not yet collected.
type RunState struct {
	Task string // the array task, "12_3"
	// Status is submitted (queued), requeued (queued again after a
	// checkpoint), running, or the end status its shard holds (done,
	// failed, interrupted); lost when the task ended without a record.
	Status         string
	CheckpointStep int // from an ended task's shard, else results.NoCheckpoint
}

// States reads, for runs of arrays not yet collected, where they
// stand: from squeue for tasks queued or running and from the shards of
// tasks that ended. Runs done in the main database are left out. A running
// task's shard is not opened: it is being written from another machine.
func States(ctx context.Context, store *results.Store, dir string) (map[string]RunState, error) {
	subs, err := findSubmissions(dir, store.Path())
	if err != nil {
		return nil, err
	}
	out := map[string]RunState{}
	for _, s := range subs {
		jobs := s.pending()
		active, err := squeueStates(ctx, jobs)
		slurm := err == nil
		if err != nil && !errors.Is(err, ErrNoSlurm) {
			return nil, err
		}
		for _, job := range jobs {
			for _, i := range s.indexes(job) {
				el := element{job, i}
				st, err := s.state(ctx, el, active[el], slurm)
				if err != nil {
					return nil, err
				}
				out[s.list.Runs[i].ID] = st
			}
		}
	}
	if len(out) == 0 {
		return out, nil
	}
	stored, err := store.Runs(ctx, slices.Collect(maps.Keys(out)))
	if err != nil {
		return nil, err
	}
	for _, r := range stored {
		if r.Status == results.Done {
			delete(out, r.ID)
		}
	}
	return out, nil
}

// state reads one task's standing; queue is its squeue state ("" when it is
// not queued, or slurm is false and nobody can tell).
func (s *submission) state(ctx context.Context, el element, queue string, slurm bool) (RunState, error) {
	st := RunState{Task: el.String(), CheckpointStep: results.NoCheckpoint}
	shard := ShardPath(s.dir, el.Job, el.Index)
	_, err := os.Stat(shard)
	hasShard := err == nil
	switch {
	case queue == "PENDING" && hasShard:
		st.Status = "requeued"
		return st, nil
	case queue == "PENDING":
		st.Status = "submitted"
		return st, nil
	case queue != "":
		st.Status = "running"
		return st, nil
	case !hasShard && slurm:
		st.Status = "lost"
		return st, nil
	case !hasShard:
		st.Status = "submitted"
		return st, nil
	}
	sh, err := results.Open(ctx, shard)
	if err != nil {
		return st, err
	}
	defer sh.Close()
	runs, err := sh.Runs(ctx, []string{s.list.Runs[el.Index].ID})
	if err != nil {
		return st, err
	}
	st.Status = "lost"
	if len(runs) == 1 {
		r := runs[0]
		st.CheckpointStep = r.CheckpointStep
		switch {
		case r.Status == results.Running && slurm:
			st.Status = string(results.Interrupted) // its task was killed; Collect expires it
		case r.Status != results.Pending:
			st.Status = string(r.Status)
		}
	}
	return st, nil
}
