//go:build harnesstest

package main

import (
	"os"

	"outerloop/harness"
	"outerloop/harness/harnesstest"
)

// testTrainer is a TEST HOOK, compiled only with -tags harnesstest (the
// binary the cmd/harness tests build): OUTERLOOP_TEST_TRAINER selects the
// pure-Go test trainer and its faults, e.g. "fake,delay=20ms,fail=3". A
// release build has no such hook.
func testTrainer() (harness.Trainer, error) {
	spec, ok := os.LookupEnv("OUTERLOOP_TEST_TRAINER")
	if !ok {
		return nil, nil
	}
	return harnesstest.Parse(spec)
}
