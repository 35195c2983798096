//go:build !harnesstest

package main

import "outerloop/harness"

// testTrainer is the test hook; only binaries built with -tags harnesstest
// have one (testhook_harnesstest.go).
func testTrainer() (harness.Trainer, error) { return nil, nil }
