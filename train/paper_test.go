package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"outerloop/experiments"
	"outerloop/models"
	"outerloop/tasks"
)

// TestPaperConfigsTakeOneStep keeps ablations/paper from rotting: every
// grid loads, its model builds at the paper size, and one optimiser step
// runs on CPU with a batch of one. The papers' datasets are not in the
// repository, so the task is swapped for data of the same shape (generated
// Sudoku and mazes; the ARC-AGI-1 files in ../shared when present, else
// ARC-lite on the same 30×30 canvas).
func TestPaperConfigsTakeOneStep(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every paper-size model and takes a CPU step with each")
	}
	grids, _ := filepath.Glob("../ablations/paper/*.toml")
	if len(grids) < 9 {
		t.Fatalf("found %d paper grids, want ≥ 9", len(grids))
	}
	cache := t.TempDir() // the four ARC grids share one stand-in dataset
	for _, path := range grids {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".toml"), func(t *testing.T) {
			lockThread()
			r := firstRun(t, path)
			if r.Train.Device != "cuda" {
				t.Fatalf("train.device = %q, want cuda for a paper configuration", r.Train.Device)
			}
			r.Task = standIn(r.Task)
			r.Train.Device, r.Train.Batch = "cpu", 1
			if r.Task.Name != "sudoku" {
				// bf16 matmuls are emulated on CPUs without AVX-512 BF16:
				// at 900 positions a step took ~110 s against 9 s in fp32.
				// The Sudoku grids keep the papers' bf16, so it is still
				// exercised at paper size.
				r.Train.Precision = experiments.PrecisionFP32
			}
			e := engineFor(t, r, cache)
			st := e.trainStep(1e-4)
			if st.loss <= 0 || st.loss != st.loss {
				t.Fatalf("first step loss %v", st.loss)
			}
			t.Logf("%s: %d parameters, loss %.3f", r.Model.Core, e.model.Count(), st.loss)
		})
	}
}

// firstRun loads a grid and returns its first run.
func firstRun(t *testing.T, path string) experiments.RunSpec {
	t.Helper()
	g, err := experiments.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return runs[0]
}

// TestPaperARCGridsCountEpochs checks that each ARC paper grid trains for
// the papers' 100,000 epochs, as their pretrain.py counts steps
// (tasks.Dataset.EpochSteps), and evaluates ten times, when its data is in
// ablations/paper/data (it is not in the repository).
func TestPaperARCGridsCountEpochs(t *testing.T) {
	grids, _ := filepath.Glob("../ablations/paper/*arc*.toml")
	if len(grids) < 4 {
		t.Fatalf("found %d ARC paper grids, want 4", len(grids))
	}
	for _, path := range grids {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".toml"), func(t *testing.T) {
			r := firstRun(t, path)
			base := filepath.Dir(path)
			if _, err := os.Stat(filepath.Join(base, r.Task.Source)); err != nil || testing.Short() {
				t.Skipf("no ARC data at %s (or -short)", filepath.Join(base, r.Task.Source))
			}
			d, err := tasks.Build(r.Task, "", base)
			if err != nil {
				t.Fatal(err)
			}
			steps := d.EpochSteps(100000, r.Train.Batch)
			if r.Train.Steps != steps || r.Train.EvalEvery != (steps+9)/10 {
				t.Fatalf("train.steps = %d, eval_every = %d; want %d and %d", r.Train.Steps, r.Train.EvalEvery, steps, (steps+9)/10)
			}
		})
	}
}

// standIn returns a small task of the same shape as cfg.
func standIn(cfg experiments.TaskConfig) experiments.TaskConfig {
	c := experiments.DefaultTaskConfig()
	switch cfg.Name {
	case "sudoku":
		c.Name, c.Size, c.Train, c.Test = "sudoku", 9, 4, 2
	case "maze":
		c.Name, c.Size, c.MinPath, c.Train, c.Test = "maze", 30, 60, 4, 2
	case "arc": // the real ARC-AGI-1 tasks the repository ships
		c.Name, c.Source, c.Subsets, c.Augment = "arc", "../data/arc-agi-1", []string{"training", "evaluation"}, 2
		c.Train, c.Test = 3, 2
	}
	return c
}

func TestCUDADeviceFailsClearlyWithoutCUDA(t *testing.T) {
	lockThread()
	if models.Libtorch()["libtorch_cuda"] == "true" && gotch.CUDA.IsAvailable() {
		t.Skip("this build has a GPU")
	}
	_, err := models.ParseDevice("cuda:0")
	if err == nil || !strings.Contains(err.Error(), "cuda") {
		t.Fatalf("ParseDevice(cuda:0) error = %v, want a message about CUDA", err)
	}
	if _, err := models.ParseDevice("tpu"); err == nil {
		t.Fatal("ParseDevice(tpu) succeeded")
	}
}
