package experiments

// The typed configuration of one run. Every field has a documented default
// (Default*Config) and a Validate method that names the dotted key it checks.
// These structs are the grid schema: the TOML sections [task], [model], [train]
// and [eval] decode into them, sweeps address their fields by dotted key
// ("train.loops"), and a run's identity is the sha256 of their canonical JSON.
//
// A key added after runs were recorded carries an omitid tag naming its
// default: canonical JSON leaves the key out at that value, so every run
// recorded before the key existed keeps its id, and a stored configuration
// without the key decodes to it. The default is what those runs did, except
// where the key fixes a deviation from the papers: task.drop_leaked, whose
// default keeps the two ARC-AGI-1 pairs that arc runs used to drop.
//
// They live here, and not in tasks, models and train, because experiments must
// build without libtorch while models and train import gotch; those packages
// take these types as their input.

// TaskConfig selects and sizes the puzzle dataset (tasks.Build).
type TaskConfig struct {
	// Name is the dataset family: sudoku | maze | arc | arc-lite.
	Name TaskName `toml:"name" json:"name"`
	// Source is "generate" (build with the tasks generators) or a path to
	// the real files (Sudoku-Extreme / Maze-Hard CSV directory, ARC task
	// directory or *_challenges.json), relative to the grid file.
	Source string `toml:"source" json:"source"`
	// Size is the grid side: sudoku 4|6|9, maze N, arc-lite max side (≤ 12).
	Size int `toml:"size" json:"size"`
	// Train and Test are the number of puzzles in each split (before
	// augmentation); for a loaded source, a subsample size (0 = all).
	Train int `toml:"train" json:"train"`
	Test  int `toml:"test" json:"test"`
	// Augment is the number of augmented variants per training puzzle
	// (0 = none). The papers use 1000 for Sudoku and ARC.
	Augment int `toml:"augment" json:"augment"`
	// Givens is the number of clues for generated Sudoku (0 = minimal: clues
	// are removed while the solution stays unique).
	Givens int `toml:"givens" json:"givens"`
	// MinGuesses rejects generated Sudoku whose uniqueness proof needed
	// fewer solver guesses (0 = any), raising difficulty towards
	// Sudoku-Extreme.
	MinGuesses int `toml:"min_guesses" json:"min_guesses"`
	// MinPath is the minimum shortest-path length for generated mazes
	// (Maze-Hard: 110 on 30×30).
	MinPath int `toml:"min_path" json:"min_path"`
	// Families restricts arc-lite to some transformation families
	// (empty = all).
	Families []string `toml:"families" json:"families"`
	// Subsets picks ARC sets: training | evaluation | training2 |
	// evaluation2 | concept.
	Subsets []string `toml:"subsets" json:"subsets"`
	// Votes caps the augmented variants per ARC test input whose
	// predictions vote, counting the original (0 = all Augment+1).
	Votes int `toml:"votes" json:"votes"`
	// DropLeaked (arc) removes from training a pair that is, up to
	// augmentation, another evaluation task's test pair. HRM's and TRM's
	// dataset builders keep such pairs (ARC-AGI-1 has two), so false builds
	// the papers' data; generated arc-lite always drops them.
	DropLeaked bool `toml:"drop_leaked" json:"drop_leaked" omitid:"false"`
	// Distinct is what makes two generated puzzles different: exact (byte
	// for byte) or symmetry (no two puzzles, in particular no training and
	// test puzzle, are images of each other under the augmentation's
	// symmetries). With symmetry the test split is new to the model, not a
	// shuffled copy of something it trained on.
	Distinct Distinct `toml:"distinct" json:"distinct" omitid:"exact"`
	// Seed fixes the generated data independently of the run seed, so runs
	// that differ only in seed train on the same puzzles.
	Seed int64 `toml:"seed" json:"seed"`
}

// ModelConfig selects the core and its sizes (models.New).
type ModelConfig struct {
	// Core is the network inside the loop: hrm | trm | ut | transformer.
	Core Core `toml:"core" json:"core"`
	// Hidden is the model width (papers: 512).
	Hidden int `toml:"hidden" json:"hidden"`
	// Heads is the number of attention heads (papers: 8).
	Heads int `toml:"heads" json:"heads"`
	// Expansion is the SwiGLU width factor (papers: 4).
	Expansion float64 `toml:"expansion" json:"expansion"`
	// Layers is the block count of trm's single net (TRM: 2), of the
	// transformer stack (ARC Prize baseline: 8) and of ut's tied block
	// group (usually 1).
	Layers int `toml:"layers" json:"layers"`
	// HLayers and LLayers are HRM's module depths (HRM: 4 and 4).
	HLayers int `toml:"h_layers" json:"h_layers"`
	LLayers int `toml:"l_layers" json:"l_layers"`
	// HCycles and LCycles are the inner recursion: HRM's H_cycles/L_cycles
	// and TRM's T/n (TRM: T=3, n=6; HRM: 2/2).
	HCycles int `toml:"h_cycles" json:"h_cycles"`
	LCycles int `toml:"l_cycles" json:"l_cycles"`
	// Depth is how many times ut applies its tied block per segment.
	Depth int `toml:"depth" json:"depth"`
	// Mixer is the token mixer: attention | mlp (TRM's MLP-mixer, fixed
	// small grids only).
	Mixer Mixer `toml:"mixer" json:"mixer"`
	// Pos is the position encoding: rope | learned | none.
	Pos Pos `toml:"pos" json:"pos"`
	// PuzzleEmbLen is the number of prefix positions for the per-puzzle
	// embedding (0 = off; HRM 1, TRM 16 on ARC).
	PuzzleEmbLen int `toml:"puzzle_emb_len" json:"puzzle_emb_len"`
	// ACT turns on ut's per-position adaptive computation time.
	ACT bool `toml:"act" json:"act"`
	// PonderCost weights ut's ACT ponder loss (t2t: 0.01).
	PonderCost float64 `toml:"ponder_cost" json:"ponder_cost"`
}

// TrainConfig is the training procedure (train.Run).
type TrainConfig struct {
	// Loops is N_sup, the maximum number of deep-supervision segments.
	Loops int `toml:"loops" json:"loops"`
	// Steps is the number of optimiser steps.
	Steps int `toml:"steps" json:"steps"`
	// Batch is the number of samples per optimiser step.
	Batch int `toml:"batch" json:"batch"`
	// LR is the peak learning rate; Warmup the linear warm-up steps;
	// LRSchedule constant | cosine; LRMin the cosine floor as a ratio.
	LR         float64    `toml:"lr" json:"lr"`
	Warmup     int        `toml:"warmup" json:"warmup"`
	LRSchedule LRSchedule `toml:"lr_schedule" json:"lr_schedule"`
	LRMin      float64    `toml:"lr_min_ratio" json:"lr_min_ratio"`
	// Beta1, Beta2 and WeightDecay configure AdamW (papers: 0.9, 0.95).
	Beta1       float64 `toml:"beta1" json:"beta1"`
	Beta2       float64 `toml:"beta2" json:"beta2"`
	WeightDecay float64 `toml:"weight_decay" json:"weight_decay"`
	// Optimizer is the weights' update rule: adamw | adam-atan2 (HRM and
	// TRM: adam-atan2).
	Optimizer Optimizer `toml:"optimizer" json:"optimizer" omitid:"adamw"`
	// PuzzleEmbLR and PuzzleEmbWeightDecay configure the sign-SGD optimiser
	// of the puzzle embedding.
	PuzzleEmbLR          float64 `toml:"puzzle_emb_lr" json:"puzzle_emb_lr"`
	PuzzleEmbWeightDecay float64 `toml:"puzzle_emb_weight_decay" json:"puzzle_emb_weight_decay"`
	// GradClip is the max global gradient norm (0 = off).
	GradClip float64 `toml:"grad_clip" json:"grad_clip"`
	// EMA evaluates an exponential moving average of the weights at EMARate.
	EMA     bool    `toml:"ema" json:"ema"`
	EMARate float64 `toml:"ema_rate" json:"ema_rate"`
	// Loss is stablemax | softmax cross-entropy.
	Loss Loss `toml:"loss" json:"loss"`
	// Halting is q | bce | off; Exploration the probability of forcing a
	// random minimum number of segments.
	Halting     Halting `toml:"halting" json:"halting"`
	Exploration float64 `toml:"exploration" json:"exploration"`
	// Gradient is one-step | last-cycle | full.
	Gradient Gradient `toml:"gradient" json:"gradient"`
	// Schedule is how segments meet optimiser steps: carry | same-batch.
	Schedule Schedule `toml:"schedule" json:"schedule"`
	// Threads is the libtorch intra-op thread budget (0 = chosen by the
	// scheduler: cores / jobs). Not part of the run identity.
	Threads int `toml:"threads" json:"-"`
	// CheckpointEvery is the checkpoint interval in steps (0 = end only).
	CheckpointEvery int `toml:"checkpoint_every" json:"checkpoint_every"`
	// EvalEvery runs an intermediate evaluation every so many steps
	// (0 = only at the end).
	EvalEvery int `toml:"eval_every" json:"eval_every"`
	// LogEvery is the metric logging interval in steps.
	LogEvery int `toml:"log_every" json:"log_every"`
	// Precision is fp32 | bf16: bf16 computes matmuls and attention in
	// bfloat16 with float32 parameters, norms, loss and optimiser state.
	Precision Precision `toml:"precision" json:"precision" omitid:"fp32"`
	// Device is cpu | cuda | cuda:N.
	Device Device `toml:"device" json:"device"`
}

// EvalConfig is the evaluation pass (train.Evaluate).
type EvalConfig struct {
	// Loops is how many segments run at inference; accuracy is recorded
	// after every segment 1..Loops.
	Loops int `toml:"loops" json:"loops"`
	// Batch is the evaluation batch size.
	Batch int `toml:"batch" json:"batch"`
	// Samples caps the number of test samples (0 = all).
	Samples int `toml:"samples" json:"samples"`
	// PoolVotes (arc, arc-lite) pools the votes of every evaluation of the
	// run after eval.loops segments and also reports pass@k of the pool
	// (pass@2_partial_pooled, …). TRM's evaluator pools by default
	// (aggregated voting), so its reported pass@2 is an ensemble of the
	// run's evaluation checkpoints.
	PoolVotes bool `toml:"pool_votes" json:"pool_votes" omitid:"false"`
}
