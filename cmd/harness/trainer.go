package main

import (
	"context"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/train"
)

// newTrainer constructs the training engine that `harness run` calls for
// each run. It is the one place the real trainer (package train) is wired
// into the binary; everything else sees only harness.Trainer.
func newTrainer() (harness.Trainer, error) {
	if t, err := testTrainer(); t != nil || err != nil {
		return t, err
	}
	return engine{}, nil
}

// engine adapts train.Run to harness.Trainer.
type engine struct{}

func (engine) Run(ctx context.Context, run experiments.RunSpec, env harness.Env) error {
	return train.Run(ctx, run, train.Env{
		Threads:  env.Threads,
		Dir:      env.Dir,
		BaseDir:  env.BaseDir,
		CacheDir: env.CacheDir,
		Observer: env.Recorder,
	})
}

func (engine) Info() map[string]string { return train.Info() }
