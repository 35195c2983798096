package harness

import (
	"context"

	"outerloop/experiments"
)

// Trainer trains and evaluates one run. It resumes from a checkpoint in env.Dir if one is there.
type Trainer interface {
	Run(ctx context.Context, run experiments.RunSpec, env Env) error
	Info() map[string]string // provenance: libtorch version, ABI, device...
}

// Env is what the harness gives a run besides its configuration.
type Env struct {
	Threads int // libtorch intra-op threads for this run, to start with
	// Budget, when set, is the run's share of the host's cores, which can
	// change while it trains: the trainer asks it between steps and sets
	// libtorch's count to what it says.
	Budget ThreadBudget
	Dir    string // per-run folder for checkpoints and artifacts (created by harness)
	// BaseDir is the folder a relative task.source resolves against
	// (experiments.Grid.SourceDir: the grid file that set it; "" for the
	// working directory).
	BaseDir  string
	CacheDir string // dataset cache folder
	Recorder Recorder
}

// Recorder receives what a run produces; the harness implementation writes to SQLite in batches
// and feeds the progress view. Methods must be safe to call from the run's goroutine only.
type Recorder interface {
	Metric(step int, name string, value float64)
	Eval(step, loops int, name string, value float64)
	Artifact(kind, path string) error
	Checkpoint(step int)                    // a checkpoint at step is on disk
	Flush()                                 // write what was recorded so far (called before a checkpoint)
	Progress(step, total int, loss float64) // for the live view
}

// The Trainer.Info keys the harness files under provenance's own columns;
// every other key is kept in provenance's info map.
const (
	InfoLibtorchVersion = "libtorch_version"
	InfoLibtorchABI     = "libtorch_abi"
)

// ThreadBudget is a run's current number of libtorch threads. Threads may
// change the count (other runs on the host started or ended); it is called
// from the run's goroutine, between steps.
type ThreadBudget interface {
	Threads() int
}
