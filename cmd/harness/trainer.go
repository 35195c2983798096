package main

import (
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
	return train.Trainer{}, nil
}
