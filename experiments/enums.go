package experiments

import "fmt"

// The enumerations of a run's configuration are named string types, so a
// misspelt constant does not compile and a switch over one can name every
// value. Each type's Values method is the only list of its values: Validate,
// its "did you mean" suggestions and UnknownValue all read it. They are
// plain strings in TOML and JSON, so run ids do not depend on the Go types.

// Enum is a named string type whose Values method lists every value it
// allows, in the order errors name them.
type Enum[T any] interface {
	~string
	Values() []T
}

// UnknownValue is the error for a value of key outside its enumeration.
// Validate rejects such values up front; models and train panic with it in
// the default branch of their switches rather than silently train another
// variant.
func UnknownValue[T Enum[T]](key string, v T) error {
	return fmt.Errorf("%s %q: want one of %s", key, string(v), quoteAll(valueNames(v)))
}

// valueNames returns v's enumeration as plain strings.
func valueNames[T Enum[T]](v T) []string {
	values := v.Values()
	names := make([]string, len(values))
	for i, x := range values {
		names[i] = string(x)
	}
	return names
}

// TaskName is the dataset family (task.name).
type TaskName string

// The dataset families.
const (
	TaskSudoku  TaskName = "sudoku"
	TaskMaze    TaskName = "maze"
	TaskARC     TaskName = "arc"      // ARC-AGI, loaded from its files only
	TaskARCLite TaskName = "arc-lite" // generated ARC-like transformations
)

// Values lists every TaskName.
func (TaskName) Values() []TaskName { return []TaskName{TaskSudoku, TaskMaze, TaskARC, TaskARCLite} }

// Core is the network inside the loop (model.core).
type Core string

// The cores.
const (
	CoreHRM         Core = "hrm"         // two modules, H slow and L fast
	CoreTRM         Core = "trm"         // one small net refining an answer y and a latent z
	CoreUT          Core = "ut"          // a Universal Transformer: one tied block, depth times
	CoreTransformer Core = "transformer" // a plain stack, the baseline without inner recursion
)

// Values lists every Core.
func (Core) Values() []Core { return []Core{CoreHRM, CoreTRM, CoreUT, CoreTransformer} }

// Mixer is how a block mixes information across positions (model.mixer).
type Mixer string

// The token mixers.
const (
	MixerAttention Mixer = "attention"
	MixerMLP       Mixer = "mlp" // TRM's MLP across the sequence, fixed small grids only
)

// Values lists every Mixer.
func (Mixer) Values() []Mixer { return []Mixer{MixerAttention, MixerMLP} }

// Pos is the position encoding (model.pos).
type Pos string

// The position encodings.
const (
	PosRoPE    Pos = "rope" // rotary, applied inside attention
	PosLearned Pos = "learned"
	PosNone    Pos = "none"
)

// Values lists every Pos.
func (Pos) Values() []Pos { return []Pos{PosRoPE, PosLearned, PosNone} }

// LRSchedule is the learning rate after warm-up (train.lr_schedule).
type LRSchedule string

// The learning-rate schedules.
const (
	LRConstant LRSchedule = "constant"
	LRCosine   LRSchedule = "cosine" // decays to train.lr_min_ratio of the peak
)

// Values lists every LRSchedule.
func (LRSchedule) Values() []LRSchedule { return []LRSchedule{LRConstant, LRCosine} }

// Loss is the token cross-entropy (train.loss).
type Loss string

// The token losses.
const (
	LossStablemax Loss = "stablemax" // the papers' choice (Prieto et al. 2025)
	LossSoftmax   Loss = "softmax"
)

// Values lists every Loss.
func (Loss) Values() []Loss { return []Loss{LossStablemax, LossSoftmax} }

// Halting is how training decides that a sample needs no more segments
// (train.halting).
type Halting string

// The halting rules.
const (
	HaltingQ   Halting = "q"   // HRM's Q-learning: halt when q_halt > q_continue
	HaltingBCE Halting = "bce" // TRM: halt when q_halt > 0, trained on "answer fully correct"
	HaltingOff Halting = "off" // every sample runs train.loops segments
)

// Values lists every Halting.
func (Halting) Values() []Halting { return []Halting{HaltingQ, HaltingBCE, HaltingOff} }

// Gradient is which network calls of a segment are differentiated
// (train.gradient). Everything before the differentiated tail runs without
// gradient, which also cuts the graph.
type Gradient string

// The gradient modes.
const (
	GradientOneStep   Gradient = "one-step"   // HRM: only the last L and H call (TRM: last z and y update)
	GradientLastCycle Gradient = "last-cycle" // TRM: the last of T cycles, fully
	GradientFull      Gradient = "full"       // BPTT through the whole segment
)

// Values lists every Gradient.
func (Gradient) Values() []Gradient {
	return []Gradient{GradientOneStep, GradientLastCycle, GradientFull}
}

// Schedule is how segments meet optimiser steps (train.schedule).
type Schedule string

// The supervision schedules.
const (
	// ScheduleCarry replaces only the samples that halted, so one batch
	// mixes samples at different segments (HRM's and TRM's code).
	ScheduleCarry Schedule = "carry"
	// ScheduleSameBatch refines one batch segment after segment until it
	// halts as a whole (TRM paper's pseudocode).
	ScheduleSameBatch Schedule = "same-batch"
)

// Values lists every Schedule.
func (Schedule) Values() []Schedule { return []Schedule{ScheduleCarry, ScheduleSameBatch} }

// Optimizer is the update rule of the model's weights (train.optimizer).
type Optimizer string

// The optimisers. Both keep Adam's bias-corrected moments and decay every
// weight decoupled, p ← p·(1 − lr·wd); they differ in how a moment becomes
// a step.
const (
	// OptimizerAdamW divides by √v̂ + ε (Loshchilov & Hutter).
	OptimizerAdamW Optimizer = "adamw"
	// OptimizerAdamATan2 replaces the division by atan2, with no ε: the
	// adam-atan2 package HRM and TRM train with (docs/models.md).
	OptimizerAdamATan2 Optimizer = "adam-atan2"
)

// Values lists every Optimizer.
func (Optimizer) Values() []Optimizer { return []Optimizer{OptimizerAdamW, OptimizerAdamATan2} }

// Precision is the compute precision of a run (train.precision).
type Precision string

// The precisions.
const (
	PrecisionFP32 Precision = "fp32"
	// PrecisionBF16 runs matmuls and attention in bfloat16 while the
	// parameters, norms, halting logits, loss and optimiser state stay
	// float32, as HRM and TRM train (forward_dtype = bfloat16).
	PrecisionBF16 Precision = "bf16"
)

// Values lists every Precision.
func (Precision) Values() []Precision { return []Precision{PrecisionFP32, PrecisionBF16} }

// Distinct says when two generated puzzles count as different
// (task.distinct).
type Distinct string

// The ways puzzles count as different.
const (
	DistinctExact Distinct = "exact" // not byte-identical
	// DistinctSymmetry: not images of each other under the task's
	// symmetries (Sudoku shuffles and relabelling; a maze's 8 dihedral maps).
	DistinctSymmetry Distinct = "symmetry"
)

// Values lists every Distinct.
func (Distinct) Values() []Distinct { return []Distinct{DistinctExact, DistinctSymmetry} }
