package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/models"
	"outerloop/tasks"
)

// Trainer is the training engine as the harness calls it: it implements
// harness.Trainer with Run and Info. Runs report what they produce to the
// harness.Recorder in their harness.Env; train never prints and never
// touches the results database.
type Trainer struct{}

// Run trains and evaluates one run (see the package function Run).
func (Trainer) Run(ctx context.Context, run experiments.RunSpec, env harness.Env) error {
	return Run(ctx, run, env)
}

// Info describes the linked libtorch, for run provenance.
func (Trainer) Info() map[string]string { return Info() }

// Info describes the linked libtorch, for run provenance.
func Info() map[string]string { return models.Libtorch() }

// Run trains one run and evaluates it, resuming from the checkpoint in
// env.Dir when there is one. Cancelling ctx checkpoints and returns
// ctx.Err(); a NaN loss returns an error naming the step.
func Run(ctx context.Context, run experiments.RunSpec, env harness.Env) (err error) {
	// libtorch's grad mode and gotch's error slot are thread-local.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Registered first so that it runs last, after the deferred drops below
	// have freed the model and optimiser state.
	defer func() {
		if p := recover(); p != nil {
			err = libtorchFailure(p, env)
		}
		models.ReleaseMemory()
	}()
	models.SetThreads(env.Threads)

	device, err := models.ParseDevice(run.Train.Device)
	if err != nil {
		return fmt.Errorf("train.device: %w", err)
	}
	data, err := tasks.Build(run.Task, env.CacheDir, env.BaseDir)
	if err != nil {
		return err
	}
	model, err := models.New(run.Model, models.Shape{Vocab: data.Vocab, SeqLen: data.SeqLen, PuzzleIDs: data.NumPuzzleIDs}, models.Placement{Device: device, BF16: run.Train.Precision == experiments.PrecisionBF16}, run.Seed)
	if err != nil {
		return err
	}
	defer model.Params.Drop()
	if model.Puzzle != nil {
		defer model.Puzzle.Drop()
	}
	e := newEngine(run, model, data, env.Recorder)
	defer e.drop()
	if err := e.resume(env.Dir); err != nil {
		return err
	}
	if e.step == 0 {
		env.Recorder.Metric(0, "parameters", float64(model.Count()))
	}
	e.budget, e.threads = env.Budget, env.Threads
	return e.train(ctx, env.Dir)
}

// train is the loop: one flat sequence of phases per optimiser step.
func (e *engine) train(ctx context.Context, dir string) error {
	cfg := e.run.Train
	log := newLogWindow()
	start := time.Now()
	for e.step < cfg.Steps {
		// Stop: an interrupted run checkpoints so the next invocation resumes.
		if ctx.Err() != nil {
			e.wall += time.Since(start).Seconds()
			if err := e.checkpoint(dir); err != nil {
				return errors.Join(ctx.Err(), err)
			}
			return ctx.Err()
		}
		// Threads: the run's share of the host's cores may have changed.
		e.applyBudget()
		// Learning rate for this step (warm-up, then constant or cosine).
		lr := learningRate(cfg, e.step)
		// One segment on the supervision schedule, one optimiser update.
		st := e.trainStep(lr)
		e.step++
		if math.IsNaN(st.loss) || math.IsInf(st.loss, 0) {
			return fmt.Errorf("loss is %v at step %d (lr %.3g): the run diverged", st.loss, e.step, lr)
		}
		// Log: means over the window, every log_every steps.
		log.add(st)
		e.obs.Progress(e.step, cfg.Steps, st.loss)
		if e.step%max(cfg.LogEvery, 1) == 0 || e.step == cfg.Steps {
			e.log(log, lr, e.wall+time.Since(start).Seconds())
			log = newLogWindow()
		}
		// Evaluate and checkpoint on their intervals.
		if cfg.EvalEvery > 0 && e.step%cfg.EvalEvery == 0 && e.step < cfg.Steps {
			e.evaluate()
		}
		if cfg.CheckpointEvery > 0 && e.step%cfg.CheckpointEvery == 0 && e.step < cfg.Steps {
			e.wall += time.Since(start).Seconds()
			start = time.Now()
			if err := e.checkpoint(dir); err != nil {
				return err
			}
		}
	}
	e.wall += time.Since(start).Seconds()
	if err := e.checkpoint(dir); err != nil {
		return err
	}
	e.evaluate()
	e.obs.Metric(e.step, "wall_s", e.wall)
	return nil
}

// applyBudget sets libtorch's thread count to the run's current share of
// the host's cores (harness.ThreadBudget); the count is per OS thread, and
// this is the run's.
func (e *engine) applyBudget() {
	if e.budget == nil {
		return
	}
	if n := e.budget.Threads(); n != e.threads && n > 0 {
		models.SetThreads(n)
		e.threads = n
	}
}
