package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Slurm is driven through its client commands (sbatch, squeue, sacct,
// scontrol), as a user would, with the environment this process has:
// SLURM_CONF and the like reach them unchanged.

// ErrNoSlurm is returned when a Slurm command is not installed here.
var ErrNoSlurm = errors.New("slurm commands not found (run this on a Slurm login node)")

// element is array task Index of array job Job.
type element struct {
	Job   string
	Index int
}

func (e element) String() string { return fmt.Sprintf("%s_%d", e.Job, e.Index) }

// slurmCmd runs a Slurm command and returns its stdout; the error carries
// its stderr.
func slurmCmd(ctx context.Context, name string, args ...string) (string, error) {
	if _, err := exec.LookPath(name); err != nil {
		return "", fmt.Errorf("%s: %w", name, ErrNoSlurm)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
	}
	return stdout.String(), nil
}

// sbatch submits a batch script and returns the job id.
func sbatch(ctx context.Context, script string) (string, error) {
	out, err := slurmCmd(ctx, "sbatch", "--parsable", script)
	if err != nil {
		return "", err
	}
	// --parsable prints "jobid" or "jobid;cluster".
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return id, nil
}

// squeueStates returns the Slurm state (PENDING, RUNNING, ...) of every
// element of jobs that is still queued or running; elements that ended are
// absent. ErrNoSlurm when squeue is not installed.
func squeueStates(ctx context.Context, jobs []string) (map[element]string, error) {
	if len(jobs) == 0 {
		return map[element]string{}, nil
	}
	out, err := slurmCmd(ctx, "squeue", "--noheader", "--array", "--jobs="+strings.Join(jobs, ","), "--format=%F|%K|%T")
	if err != nil {
		// Once every job has left the controller, squeue refuses the ids.
		if strings.Contains(err.Error(), "Invalid job id") {
			return map[element]string{}, nil
		}
		return nil, err
	}
	return parseElementStates(out), nil
}

// parseElementStates reads lines "job|index|STATE" (squeue) or
// "job_index|STATE words|exit" (sacct). Lines for a still-compressed range
// ("12_[3-5%2]") or a whole job are skipped.
func parseElementStates(out string) map[element]string {
	states := map[element]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 2 {
			continue
		}
		job, idx, state := f[0], f[1], ""
		if j, i, ok := strings.Cut(f[0], "_"); ok {
			job, idx, state = j, i, f[1]
		} else if len(f) >= 3 {
			state = f[2]
		}
		n, err := strconv.Atoi(idx)
		if err != nil || job == "" {
			continue
		}
		if word, _, _ := strings.Cut(strings.TrimSpace(state), " "); word != "" {
			states[element{job, n}] = word
		}
	}
	return states
}

// sacctStates returns how the elements of job ended (COMPLETED, FAILED,
// TIMEOUT, OUT_OF_MEMORY, ...), from Slurm's accounting. Clusters without
// accounting have none; that is not an error, the shards still tell.
func sacctStates(ctx context.Context, job string) map[element]string {
	out, err := slurmCmd(ctx, "sacct", "--noheader", "--parsable2", "--allocations", "--jobs="+job,
		"--format=JobID,State,ExitCode")
	if err != nil {
		return nil
	}
	return parseElementStates(out)
}

// requeueElement asks Slurm to run an element of an array again.
func requeueElement(ctx context.Context, e element) error {
	_, err := slurmCmd(ctx, "scontrol", "requeue", e.String())
	return err
}
