package harnesstest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// claimGrid is 2 training-loop settings × 3 seeds of the test trainer's
// problem, logged every step and evaluated after inference loops 1..4, with
// a claim about the inference-loop curve.
const claimGrid = `
name = %q
title = %q
description = "Training loops 1 and 2, three seeds each, evaluated after every inference loop 1..4."
seeds = [1, 2, 3]
[task]
name = "sudoku"
size = 4
[train]
steps = %d
log_every = 1
checkpoint_every = 10
[eval]
loops = 4
[sweep]
"train.loops" = [1, 2]
[[expect]]
metric = "exact_accuracy"
increases_with = "eval.loops"
description = "Accuracy rises with the number of inference loops."
`

// WriteClaimGrid writes a grid with a claim into dir/NAME.toml and returns
// its path. The test trainer's accuracy rises with inference loops until
// training converges, so with steps ≤ 40 the claim is reproduced once all
// six runs are done, and inconclusive while fewer than three seeds of a
// training-loop setting are.
func WriteClaimGrid(tb testing.TB, dir, name, title string, steps int) string {
	tb.Helper()
	path := filepath.Join(dir, name+".toml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(claimGrid, name, title, steps)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}
