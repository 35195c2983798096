package slurm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/results"
)

// ErrWarning is the cause a task's context is cancelled with when
// Slurm's warning signal (SIGUSR1, sent --signal seconds before the time
// limit) arrives: the task saves and asks to be requeued.
var ErrWarning = errors.New("slurm's warning signal: the time limit is near")

// Task trains one task of a Slurm job array: run Index of the run
// list, recorded in the task's own shard database. It never opens the main
// database, which other machines may be reading or writing.
type Task struct {
	List  string // the run list file (runs.json)
	Index int
	Shard string
	// Trainer trains the run; it resumes from the checkpoint in the run's
	// folder when there is one.
	Trainer harness.Trainer
	// Threads is the run's thread budget when its train.threads sets none;
	// 0 takes $SLURM_CPUS_PER_TASK, else the machine's cores.
	Threads int
	Events  harness.EventSink
	// Requeue asks Slurm to run the task again when ctx was cancelled with
	// ErrWarning and the run was saved unfinished.
	Requeue bool
}

// TaskOutcome is how a task ended.
type TaskOutcome struct {
	Run    string         // the run's id
	Status results.Status // the run's status in the shard
	// Requeued names the array task ("12_3") when it asked Slurm to run it
	// again.
	Requeued string
}

// Run trains the task's run. A requeued or resubmitted task finds its run
// interrupted (in its shard or its seed) and its checkpoint in the run's
// folder, and resumes. A cancelled ctx saves the run as interrupted; with
// ErrWarning as the cause and Requeue set, the task is requeued.
func (t *Task) Run(ctx context.Context) (TaskOutcome, error) {
	out, err := t.run(ctx)
	if err != nil {
		return out, fmt.Errorf("slurm task %d of %s: %w", t.Index, t.List, err)
	}
	return out, nil
}

func (t *Task) run(ctx context.Context) (TaskOutcome, error) {
	l, err := ReadRunList(t.List)
	if err != nil {
		return TaskOutcome{}, err
	}
	spec, err := l.Spec(t.Index)
	if err != nil {
		return TaskOutcome{}, err
	}
	out := TaskOutcome{Run: spec.ID}
	if seed := l.Runs[t.Index].Seed; seed != "" {
		if err := startFromSeed(t.Shard, filepath.Join(filepath.Dir(t.List), seed)); err != nil {
			return out, err
		}
	}
	store, err := results.Open(ctx, t.Shard)
	if err != nil {
		return out, err
	}
	defer store.Close()
	if err := expireEarlierAttempt(ctx, store, spec.ID); err != nil {
		return out, err
	}
	g := &experiments.Grid{Name: l.Grid.Name, Title: l.Grid.Title, Description: l.Grid.Description, Path: l.Grid.Path}
	sched := &harness.Scheduler{Store: store, Trainer: t.Trainer, Jobs: 1, Threads: t.threads(), Events: t.Events,
		RunsDir: l.RunsDir, CacheDir: l.CacheDir,
		SourceDir: func(experiments.RunSpec) string {
			// Lists written before source_dir existed: the grid's folder.
			return cmp.Or(l.Runs[t.Index].SourceDir, filepath.Dir(l.Grid.Path))
		}}
	_, runErr := sched.Run(ctx, g, []experiments.RunSpec{spec})
	bg := context.WithoutCancel(ctx)
	st, err := store.Statuses(bg, []string{spec.ID})
	if err != nil {
		return out, errors.Join(runErr, err)
	}
	out.Status = st[spec.ID]
	if t.Requeue && out.Status == results.Interrupted && errors.Is(context.Cause(ctx), ErrWarning) {
		el, err := thisElement()
		if err == nil {
			err = requeueElement(bg, el)
		}
		if err != nil {
			return out, errors.Join(runErr, fmt.Errorf("requeue: %w", err))
		}
		out.Requeued = el.String()
	}
	return out, runErr
}

// startFromSeed creates the shard from the seed (the run's history before
// this submission) unless the shard exists, i.e. this is a requeue that
// already has it. The copy is renamed into place whole, so a task killed
// while copying starts over cleanly.
func startFromSeed(shard, seed string) error {
	if _, err := os.Stat(shard); err == nil {
		return nil
	}
	src, err := os.Open(seed)
	if err != nil {
		return fmt.Errorf("start shard from seed: %w", err)
	}
	defer src.Close()
	tmp := shard + ".seeding"
	dst, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("start shard from seed: %w", err)
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, shard)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("start shard from seed: %w", err)
	}
	return nil
}

// expireEarlierAttempt frees the run if the shard says it is running: only
// one instance of an array task runs at a time, so the holder is this
// task's previous attempt, killed (and maybe on another node, where its pid
// means nothing), and there is no point waiting out its lease.
func expireEarlierAttempt(ctx context.Context, store *results.Store, id string) error {
	held, err := store.Held(ctx, []string{id})
	if err != nil {
		return err
	}
	for _, h := range held {
		if _, err := store.Expire(ctx, h.ID, h.LeaseOwner, "the previous attempt of this array task was killed"); err != nil {
			return err
		}
	}
	return nil
}

// threads is the thread budget: the option, Slurm's CPU allocation, or
// the cores.
func (t *Task) threads() int {
	if t.Threads > 0 {
		return t.Threads
	}
	if n, err := strconv.Atoi(os.Getenv("SLURM_CPUS_PER_TASK")); err == nil && n > 0 {
		return n
	}
	return runtime.NumCPU()
}

// thisElement reads which array task this process is from Slurm's
// environment.
func thisElement() (element, error) {
	job, idx := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID")
	i, err := strconv.Atoi(idx)
	if job == "" || err != nil {
		return element{}, errors.New("not in a slurm array task (SLURM_ARRAY_JOB_ID and SLURM_ARRAY_TASK_ID unset)")
	}
	return element{job, i}, nil
}
