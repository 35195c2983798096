package slurm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"outerloop/harness"
	"outerloop/results"
)

// ArrayProgress is where a job array stands while Wait follows it.
type ArrayProgress struct {
	Job                     string
	Pending, Running, Ended int
	Total                   int
}

// Wait follows the submitted array until none of its tasks is queued or
// running, calling progress (if not nil) whenever the counts change, then
// collects it. A requeued task is queued again, so Wait waits for it.
// Cancelling ctx stops the following, not the array: collect it later.
func (e *Executor) Wait(ctx context.Context, sub *Submission, progress func(ArrayProgress)) (CollectReport, error) {
	if sub.Job == "" {
		return CollectReport{}, nil
	}
	start := time.Now()
	var last ArrayProgress
	for {
		states, err := squeueStates(ctx, []string{sub.Job})
		if err != nil {
			return CollectReport{}, fmt.Errorf("follow job %s: %w", sub.Job, err)
		}
		p := ArrayProgress{Job: sub.Job, Total: sub.Runs}
		for _, st := range states {
			if st == "PENDING" {
				p.Pending++
			} else {
				p.Running++
			}
		}
		p.Ended = p.Total - p.Pending - p.Running
		if p != last && progress != nil {
			progress(p)
		}
		last = p
		if len(states) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return CollectReport{}, fmt.Errorf("follow job %s: stopped following (the array keeps running; `harness slurm collect %s` merges it later): %w",
				sub.Job, sub.Job, ctx.Err())
		case <-time.After(pollInterval(time.Since(start))):
		}
	}
	rep, err := Collect(ctx, e.Store, e.Dir, []string{sub.Job})
	if err != nil {
		return rep, fmt.Errorf("collect job %s: %w", sub.Job, err)
	}
	return rep, nil
}

// pollInterval spaces squeue calls: often while a small test array runs,
// rarely for a long one, so a login node's controller is not hammered.
func pollInterval(elapsed time.Duration) time.Duration {
	switch {
	case elapsed < time.Minute:
		return 2 * time.Second
	case elapsed < 10*time.Minute:
		return 10 * time.Second
	}
	return 30 * time.Second
}

// Summary reads where the submission's grid stands in the main database.
// Its error wraps harness.ErrRunsFailed when runs are failed.
func (e *Executor) Summary(ctx context.Context, sub *Submission) (harness.Summary, error) {
	sum := harness.Summary{Total: len(sub.ids), AlreadyDone: sub.Done, Final: map[results.Status]int{}, Trained: map[results.Status]int{}}
	runs, err := e.Store.Runs(ctx, sub.ids)
	if err != nil {
		return sum, err
	}
	for _, r := range runs {
		if slices.Contains(sub.submitted, r.ID) {
			sum.Trained[r.Status]++
		}
		sum.Final[r.Status]++
		if r.Status == results.Failed {
			sum.Failures = append(sum.Failures, harness.Failure{Run: r.ID, Label: sub.labels[r.ID], Err: r.Error})
		}
	}
	if n := sum.Final[results.Failed]; n > 0 {
		return sum, fmt.Errorf("%d of %d runs failed: %w", n, sum.Total, harness.ErrRunsFailed)
	}
	return sum, nil
}
