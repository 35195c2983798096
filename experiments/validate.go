package experiments

import (
	"fmt"
	"slices"
)

// Each Validate returns every violated rule at once as Errors, each naming
// its dotted key and the rule; Load adds the file and line.

// Validate checks the task's names, sizes and counts.
func (c TaskConfig) Validate() error {
	var ck checker
	c.check(&ck)
	return ck.errs.asError()
}

func (c TaskConfig) check(ck *checker) {
	oneOf(ck, "task.name", c.Name)
	generate := c.Source == "generate"
	switch {
	case c.Source == "":
		ck.add("task.source", c.Source, `must be "generate" or a path to the dataset files`)
	case generate && c.Name == TaskARC:
		ck.add("task.source", c.Source, `arc has no generator: set a path to the ARC data, or use task.name = "arc-lite"`, "task.name")
	}
	switch c.Name {
	case TaskSudoku:
		if c.Size != 4 && c.Size != 6 && c.Size != 9 {
			ck.add("task.size", c.Size, "sudoku size must be 4, 6 or 9 (boxes 2×2, 2×3, 3×3)", "task.name")
		}
		if c.Givens > c.Size*c.Size {
			ck.add("task.givens", c.Givens, fmt.Sprintf("must be at most %d, the cells of a %d×%d sudoku", c.Size*c.Size, c.Size, c.Size), "task.size")
		}
	case TaskMaze:
		if c.Size < 5 {
			ck.add("task.size", c.Size, "must be at least 5 (a maze needs room for walls, a start and a goal)", "task.name")
		}
		if c.MinPath > c.Size*c.Size {
			ck.add("task.min_path", c.MinPath, fmt.Sprintf("must be at most %d, the cells of a %d×%d maze", c.Size*c.Size, c.Size, c.Size), "task.size")
		}
	case TaskARCLite:
		if c.Size < 1 || c.Size > 12 {
			ck.add("task.size", c.Size, "arc-lite grid side must be in 1..12", "task.name")
		}
	case TaskARC:
		if c.Size < 1 || c.Size > 30 {
			ck.add("task.size", c.Size, "ARC grid side must be in 1..30", "task.name")
		}
	}
	minCount, why := 0, "0 means the whole split of the loaded data"
	if generate {
		minCount, why = 1, "generated splits need puzzles"
	}
	ck.atLeast("task.train", c.Train, minCount, why)
	ck.atLeast("task.test", c.Test, minCount, why)
	ck.atLeast("task.augment", c.Augment, 0, "0 means no augmentation")
	ck.atLeast("task.givens", c.Givens, 0, "0 means minimal clues")
	ck.atLeast("task.min_path", c.MinPath, 0, "0 means any path length")
	ck.atLeast("task.min_guesses", c.MinGuesses, 0, "0 means any difficulty")
	ck.atLeast("task.votes", c.Votes, 0, "0 means every augmented variant votes")
	if len(c.Families) > 0 && c.Name != TaskARCLite {
		ck.add("task.families", c.Families, "applies only to task.name = \"arc-lite\"", "task.name")
	}
	checkList(ck, "task.families", c.Families, nil)
	if len(c.Subsets) > 0 && c.Name != TaskARC {
		ck.add("task.subsets", c.Subsets, "applies only to task.name = \"arc\"", "task.name")
	}
	checkList(ck, "task.subsets", c.Subsets, []string{"training", "evaluation", "training2", "evaluation2", "concept"})
	oneOf(ck, "task.distinct", c.Distinct)
	if c.Distinct == DistinctSymmetry {
		switch {
		case !generate:
			ck.add("task.distinct", c.Distinct, "applies only to generated data (task.source = \"generate\")", "task.source")
		case c.Name == TaskSudoku && c.Size == 9:
			ck.add("task.distinct", c.Distinct, "is not available for 9×9 Sudoku (3.4 million shuffles per puzzle to compare)", "task.size")
		case c.Name != TaskSudoku && c.Name != TaskMaze:
			ck.add("task.distinct", c.Distinct, "applies only to task.name = \"sudoku\" and \"maze\"", "task.name")
		}
	}
	if c.DropLeaked && c.Name != TaskARC {
		ck.add("task.drop_leaked", c.DropLeaked, `applies only to task.name = "arc" (arc-lite always drops leaked pairs)`, "task.name")
	}
}

// arcLike reports whether the task has ARC's variants and votes.
func (n TaskName) arcLike() bool { return n == TaskARC || n == TaskARCLite }

// checkList rejects empty and repeated entries, and entries outside allowed
// when it is given.
func checkList(ck *checker, key string, list, allowed []string) {
	for i, s := range list {
		switch {
		case s == "":
			ck.add(key, list, fmt.Sprintf("entry %d is empty", i))
		case slices.Index(list, s) < i:
			ck.add(key, list, fmt.Sprintf("%q is listed twice", s))
		case allowed != nil && !slices.Contains(allowed, s):
			ck.add(key, list, fmt.Sprintf("%q must be one of %s", s, quoteAll(allowed)))
		}
	}
}

// Validate checks the core's name, sizes and the mixer/position pairing.
func (c ModelConfig) Validate() error {
	var ck checker
	c.check(&ck)
	return ck.errs.asError()
}

func (c ModelConfig) check(ck *checker) {
	oneOf(ck, "model.core", c.Core)
	ck.atLeast("model.hidden", c.Hidden, 1, "the model width")
	ck.atLeast("model.heads", c.Heads, 1, "attention heads")
	if c.Hidden >= 1 && c.Heads >= 1 {
		// The head width is hidden/heads rounded down, as in the ARC Prize
		// baseline (512 hidden, 12 heads → 42); the attention output width
		// is then heads × head width.
		if c.Hidden < c.Heads {
			ck.add("model.hidden", c.Hidden, fmt.Sprintf("must be at least model.heads (%d)", c.Heads), "model.heads")
		} else if c.Pos == PosRoPE && c.Mixer == MixerAttention && (c.Hidden/c.Heads)%2 != 0 {
			ck.add("model.hidden", c.Hidden, fmt.Sprintf("head width model.hidden / model.heads = %d must be even for rope (it rotates channel pairs)", c.Hidden/c.Heads), "model.heads", "model.pos")
		}
	}
	ck.positive("model.expansion", c.Expansion)
	ck.atLeast("model.layers", c.Layers, 1, "blocks per net")
	ck.atLeast("model.h_layers", c.HLayers, 1, "blocks in HRM's H module")
	ck.atLeast("model.l_layers", c.LLayers, 1, "blocks in HRM's L module")
	ck.atLeast("model.h_cycles", c.HCycles, 1, "a loop count: H cycles / TRM's T")
	ck.atLeast("model.l_cycles", c.LCycles, 1, "a loop count: L cycles / TRM's n")
	ck.atLeast("model.depth", c.Depth, 1, "a loop count: ut block applications per segment")
	oneOf(ck, "model.mixer", c.Mixer)
	oneOf(ck, "model.pos", c.Pos)
	if c.Mixer == MixerMLP && c.Pos == PosLearned {
		ck.add("model.pos", c.Pos, `model.mixer = "mlp" takes pos = "none" (TRM's MLP variant) or "rope" (unused without attention)`, "model.mixer")
	}
	ck.atLeast("model.puzzle_emb_len", c.PuzzleEmbLen, 0, "0 turns the puzzle embedding off")
	if c.ACT && c.Core != CoreUT {
		ck.add("model.act", c.ACT, `per-position ACT belongs to the Universal Transformer: needs model.core = "ut"`, "model.core")
	}
	ck.nonNegative("model.ponder_cost", c.PonderCost)
}

// Validate checks the loop count, optimiser settings and enumerations.
func (c TrainConfig) Validate() error {
	var ck checker
	c.check(&ck)
	return ck.errs.asError()
}

func (c TrainConfig) check(ck *checker) {
	ck.atLeast("train.loops", c.Loops, 1, "a loop count: supervision segments N_sup")
	ck.atLeast("train.steps", c.Steps, 1, "optimiser steps")
	ck.atLeast("train.batch", c.Batch, 1, "samples per step")
	ck.positive("train.lr", c.LR)
	ck.atLeast("train.warmup", c.Warmup, 0, "0 means no warm-up")
	oneOf(ck, "train.lr_schedule", c.LRSchedule)
	oneOf(ck, "train.precision", c.Precision)
	ck.unit("train.lr_min_ratio", c.LRMin, false)
	ck.unit("train.beta1", c.Beta1, true)
	ck.unit("train.beta2", c.Beta2, true)
	ck.nonNegative("train.weight_decay", c.WeightDecay)
	oneOf(ck, "train.optimizer", c.Optimizer)
	ck.nonNegative("train.puzzle_emb_lr", c.PuzzleEmbLR)
	ck.nonNegative("train.puzzle_emb_weight_decay", c.PuzzleEmbWeightDecay)
	ck.nonNegative("train.grad_clip", c.GradClip)
	ck.unit("train.ema_rate", c.EMARate, true)
	oneOf(ck, "train.loss", c.Loss)
	oneOf(ck, "train.halting", c.Halting)
	ck.unit("train.exploration", c.Exploration, false)
	oneOf(ck, "train.gradient", c.Gradient)
	oneOf(ck, "train.schedule", c.Schedule)
	ck.atLeast("train.threads", c.Threads, 0, "0 lets the scheduler choose")
	ck.atLeast("train.checkpoint_every", c.CheckpointEvery, 0, "0 means only at the end")
	ck.atLeast("train.eval_every", c.EvalEvery, 0, "0 means only at the end")
	ck.atLeast("train.log_every", c.LogEvery, 1, "steps between logged metrics")
	if c.Device != DeviceCPU && !c.Device.IsCUDA() {
		ck.add("train.device", c.Device, `must be "cpu", "cuda" or "cuda:N" with N a device number`)
	}
}

// Validate checks the evaluation's loop count and sizes.
func (c EvalConfig) Validate() error {
	var ck checker
	c.check(&ck)
	return ck.errs.asError()
}

func (c EvalConfig) check(ck *checker) {
	ck.atLeast("eval.loops", c.Loops, 1, "a loop count: segments at inference")
	ck.atLeast("eval.batch", c.Batch, 1, "samples per evaluation batch")
	ck.atLeast("eval.samples", c.Samples, 0, "0 means the whole test split")
}

// Validate checks every section of the run and the rules across them.
func (r RunSpec) Validate() error {
	var ck checker
	r.check(&ck)
	return ck.errs.asError()
}

func (r RunSpec) check(ck *checker) {
	r.Task.check(ck)
	r.Model.check(ck)
	r.Train.check(ck)
	r.Eval.check(ck)
	if r.Eval.PoolVotes && !r.Task.Name.arcLike() {
		ck.add("eval.pool_votes", r.Eval.PoolVotes, `pools ARC votes: applies only to task.name = "arc" or "arc-lite"`, "task.name")
	}
}
