// Package harnesstest provides a Trainer that does real, deterministic work
// without libtorch — gradient descent on a small least-squares problem, with
// checkpoints, metrics, evaluations and an artifact — and can be told to
// fail, panic, produce a NaN loss or ignore cancellation. It exists to test
// the harness and the harness binary, as net/http/httptest exists to test
// HTTP code; nothing in a real run uses it.
package harnesstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
)

// Trainer is the test trainer. Faults are chosen by run seed, so one grid
// can hold healthy and faulty runs.
type Trainer struct {
	// StepDelay is slept every step, so runs last long enough to be killed
	// or interrupted mid-way.
	StepDelay time.Duration
	// Fail, Panic and NaN name run seeds that, halfway through, return an
	// error, panic, or record a NaN loss and return an error. Abort names
	// seeds that, halfway through, kill the whole process with SIGABRT, as
	// abort() inside libtorch would.
	Fail, Panic, NaN, Abort map[int64]bool
	// IgnoreCancel makes runs ignore their context (a hung trainer), to
	// test that a second Ctrl-C exits at once.
	IgnoreCancel bool
	// Ledger, when set, is a file that gets "start ID STEP" when an attempt
	// starts (STEP is the checkpoint it resumes from, 0 for none) and
	// "end ID" when it trains the last step (not when it resumes from a
	// checkpoint already at the end).
	Ledger string
}

// Parse reads a Trainer from a comma-separated spec, as given to the
// harness binary of the harnesstest build:
// "delay=20ms,fail=3,panic=4,nan=5,abort=6,stubborn,ledger=/tmp/ledger".
func Parse(spec string) (*Trainer, error) {
	t := &Trainer{Fail: map[int64]bool{}, Panic: map[int64]bool{}, NaN: map[int64]bool{}, Abort: map[int64]bool{}}
	for _, part := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		var err error
		switch k {
		case "", "fake":
		case "delay":
			t.StepDelay, err = time.ParseDuration(v)
		case "fail", "panic", "nan", "abort":
			var seed int64
			if seed, err = strconv.ParseInt(v, 10, 64); err == nil {
				map[string]map[int64]bool{"fail": t.Fail, "panic": t.Panic, "nan": t.NaN, "abort": t.Abort}[k][seed] = true
			}
		case "stubborn":
			t.IgnoreCancel = true
		case "ledger":
			t.Ledger = v
		default:
			err = errors.New("unknown option")
		}
		if err != nil {
			return nil, fmt.Errorf("parse test trainer %q: %s: %w", spec, part, err)
		}
	}
	return t, nil
}

// Info describes the trainer for provenance.
func (t *Trainer) Info() map[string]string {
	return map[string]string{harness.InfoLibtorchVersion: "none", "trainer": "harnesstest"}
}

// state is what a checkpoint holds.
type state struct {
	Step    int       `json:"step"`
	Weights []float64 `json:"weights"`
}

const checkpointFile = "checkpoint.json"

// Run trains the run: full-batch gradient descent on 32 points whose true
// weights come from the run seed, for train.steps steps.
func (t *Trainer) Run(ctx context.Context, run experiments.RunSpec, env harness.Env) error {
	unlock, err := lockRun(env.Dir)
	if err != nil {
		return err
	}
	defer unlock()
	tid := threadID()
	xs, ys := problem(run.Seed)
	st := state{Weights: make([]float64, len(xs[0]))}
	if err := load(filepath.Join(env.Dir, checkpointFile), &st); err != nil {
		return err
	}
	if err := t.ledger("start %s %d", run.ID, st.Step); err != nil {
		return err
	}
	rec := env.Recorder
	rec.Metric(st.Step, "threads", float64(env.Threads))
	logEvery := max(run.Train.LogEvery, 1)
	trained := false
	for st.Step < run.Train.Steps {
		trained = true
		if err := ctx.Err(); err != nil && !t.IgnoreCancel {
			// Save on the way out, as a real trainer should: the
			// resumed run then loses nothing.
			if err := t.save(env, st); err != nil {
				return err
			}
			return fmt.Errorf("stopped at step %d: %w", st.Step, err)
		}
		if threadID() != tid {
			return fmt.Errorf("step %d ran on another OS thread: the run's goroutine is not locked", st.Step)
		}
		time.Sleep(t.StepDelay)
		st.Step++
		loss := descend(st.Weights, xs, ys, 0.05)
		if st.Step == run.Train.Steps/2 {
			switch {
			case t.Fail[run.Seed]:
				return fmt.Errorf("injected failure at step %d", st.Step)
			case t.Panic[run.Seed]:
				panic(fmt.Sprintf("injected panic at step %d", st.Step))
			case t.NaN[run.Seed]:
				rec.Metric(st.Step, "loss", math.NaN())
				return fmt.Errorf("loss is NaN at step %d", st.Step)
			case t.Abort[run.Seed]:
				abortProcess()
			}
		}
		if st.Step%logEvery == 0 || st.Step == run.Train.Steps {
			rec.Metric(st.Step, "loss", loss)
		}
		rec.Progress(st.Step, run.Train.Steps, loss)
		if every := run.Train.CheckpointEvery; (every > 0 && st.Step%every == 0) || st.Step == run.Train.Steps {
			if err := t.save(env, st); err != nil {
				return err
			}
		}
	}
	if trained {
		if err := t.ledger("end %s", run.ID); err != nil {
			return err
		}
	}
	return t.evaluate(env, run, st, xs, ys)
}

// evaluate records accuracy after each inference loop 1..eval.loops: the
// fraction of points predicted within a tolerance that loosens with loops,
// so the curve rises with loops as a recursive model's should.
func (t *Trainer) evaluate(env harness.Env, run experiments.RunSpec, st state, xs [][]float64, ys []float64) error {
	for loops := 1; loops <= run.Eval.Loops; loops++ {
		tol := 0.05 * float64(loops)
		hit := 0
		for i, x := range xs {
			if math.Abs(dot(st.Weights, x)-ys[i]) < tol {
				hit++
			}
		}
		env.Recorder.Eval(st.Step, loops, "exact_accuracy", float64(hit)/float64(len(xs)))
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode weights: %w", err)
	}
	if err := os.WriteFile(filepath.Join(env.Dir, "weights.json"), b, 0o644); err != nil {
		return fmt.Errorf("write weights: %w", err)
	}
	return env.Recorder.Artifact("weights", "weights.json")
}

// problem builds a least-squares problem from the seed: 32 points in 4
// dimensions and targets from fixed true weights plus a little noise.
func problem(seed int64) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 42))
	truth := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
	xs := make([][]float64, 32)
	ys := make([]float64, 32)
	for i := range xs {
		xs[i] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		ys[i] = dot(truth, xs[i]) + 0.01*rng.NormFloat64()
	}
	return xs, ys
}

// descend takes one gradient step on the mean squared error and returns
// the loss before it.
func descend(w []float64, xs [][]float64, ys []float64, lr float64) float64 {
	grad := make([]float64, len(w))
	loss := 0.0
	for i, x := range xs {
		r := dot(w, x) - ys[i]
		loss += r * r
		for j := range grad {
			grad[j] += 2 * r * x[j] / float64(len(xs))
		}
	}
	for j := range w {
		w[j] -= lr * grad[j]
	}
	return loss / float64(len(xs))
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// save writes a checkpoint atomically (a kill mid-write leaves the old one)
// and tells the recorder.
func (t *Trainer) save(env harness.Env, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	path := filepath.Join(env.Dir, checkpointFile)
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	env.Recorder.Checkpoint(st.Step)
	return nil
}

// load reads a checkpoint if there is one.
func load(path string, st *state) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return nil
}

func (t *Trainer) ledger(format string, args ...any) error {
	if t.Ledger == "" {
		return nil
	}
	f, err := os.OpenFile(t.Ledger, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open ledger: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, format+"\n", args...); err != nil {
		return fmt.Errorf("write ledger: %w", err)
	}
	return nil
}
