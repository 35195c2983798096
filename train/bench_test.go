package train

import (
	"fmt"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/models"
)

// Benchmarks print throughput and memory; `just bench` runs them once each
// (-benchtime 1x), since every iteration is itself a loop of steps.

// benchRun is the CPU bench size: d=128, 2 layers, 9×9 Sudoku, batch 64.
func benchRun(core experiments.Core) experiments.RunSpec {
	return smallRun(func(r *experiments.RunSpec) {
		*r = experiments.DefaultRunSpec()
		r.Task.Size, r.Task.Train, r.Task.Test = 9, 200, 64
		r.Model.Core, r.Model.Hidden, r.Model.Heads = core, 128, 4
		r.Model.Layers, r.Model.HLayers, r.Model.LLayers = 2, 1, 1 // HRM: 2 blocks like the others
		r.Model.Depth = 2
		r.Train.Batch, r.Train.Loops = 64, 4
	})
}

// BenchmarkTrainStep reports training throughput in samples × segments per
// second (one optimiser step = one segment for a batch) for each core at
// the same CPU size.
func BenchmarkTrainStep(b *testing.B) {
	for _, core := range []experiments.Core{experiments.CoreTRM, experiments.CoreTransformer, experiments.CoreHRM, experiments.CoreUT} {
		b.Run(string(core), func(b *testing.B) {
			lockThread()
			models.SetThreads(1)
			e := engineFor(b, benchRun(core))
			for i := 0; i < 3; i++ { // warm-up
				e.trainStep(1e-4)
			}
			const steps = 10
			start := time.Now()
			for i := 0; i < b.N*steps; i++ {
				e.trainStep(1e-4)
			}
			sec := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*steps*e.run.Train.Batch)/sec, "samples×segments/s")
			b.ReportMetric(1000*sec/float64(b.N*steps), "ms/step")
			b.ReportMetric(float64(e.model.Count()), "params")
		})
	}
}

// BenchmarkPrecision compares a training step in fp32 and bf16 at the CPU
// bench size (TRM and the transformer): what train.precision = "bf16"
// costs or saves on this CPU.
func BenchmarkPrecision(b *testing.B) {
	for _, core := range []experiments.Core{experiments.CoreTRM, experiments.CoreTransformer} {
		for _, p := range experiments.Precision("").Values() {
			b.Run(string(core)+"/"+string(p), func(b *testing.B) {
				lockThread()
				models.SetThreads(1)
				r := benchRun(core)
				r.Train.Precision = p
				e := engineFor(b, r)
				for i := 0; i < 2; i++ {
					e.trainStep(1e-4)
				}
				const steps = 5
				start := time.Now()
				for i := 0; i < b.N*steps; i++ {
					e.trainStep(1e-4)
				}
				b.ReportMetric(1000*time.Since(start).Seconds()/float64(b.N*steps), "ms/step")
			})
		}
	}
}

// BenchmarkPaperSizeStep times one optimiser step of each paper model on
// 9×9 Sudoku (batch 8 on CPU; the papers use 768 on GPUs).
func BenchmarkPaperSizeStep(b *testing.B) {
	for _, core := range []string{"trm-mlp", "trm-att", "hrm", "transformer"} {
		b.Run(core, func(b *testing.B) {
			lockThread()
			r := benchRun("trm")
			paperModel(&r.Model, core)
			r.Train.Batch = 8
			e := engineFor(b, r)
			e.trainStep(1e-4)
			start := time.Now()
			for i := 0; i < b.N; i++ {
				e.trainStep(1e-4)
			}
			b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/step")
			b.ReportMetric(float64(e.model.Count()), "params")
		})
	}
}

// paperModel sets the papers' Sudoku configurations (docs/models.md, "The
// papers' configurations").
func paperModel(c *experiments.ModelConfig, name string) {
	c.Hidden, c.Heads, c.Expansion, c.Pos, c.Mixer = 512, 8, 4, "rope", "attention"
	switch name {
	case "trm-mlp":
		c.Core, c.Layers, c.HCycles, c.LCycles, c.Mixer, c.Pos, c.PuzzleEmbLen = "trm", 2, 3, 6, "mlp", "none", 16
	case "trm-att":
		c.Core, c.Layers, c.HCycles, c.LCycles, c.PuzzleEmbLen = "trm", 2, 3, 6, 16
	case "hrm":
		c.Core, c.HLayers, c.LLayers, c.HCycles, c.LCycles, c.PuzzleEmbLen = "hrm", 4, 4, 2, 2, 1
	case "transformer":
		c.Core, c.Layers, c.Heads, c.PuzzleEmbLen = "transformer", 8, 12, 1
	}
}

// BenchmarkMemoryIsFlat trains 2,000 steps and reports RSS and live tensors
// at steps 100 and 2,000; a leak shows as growth between the two.
func BenchmarkMemoryIsFlat(b *testing.B) {
	lockThread()
	models.SetThreads(1)
	r := smallRun(func(r *experiments.RunSpec) {
		r.Train.Halting, r.Train.EMA, r.Train.Loops = "q", true, 4
	})
	e := engineFor(b, r)
	var rss100, live100 float64
	for step := 1; step <= 2000; step++ {
		e.trainStep(1e-3)
		if step == 100 {
			rss100, live100 = float64(models.RSSBytes())/(1<<20), float64(models.LiveTensors())
		}
	}
	rss, live := float64(models.RSSBytes())/(1<<20), float64(models.LiveTensors())
	b.ReportMetric(rss100, "MiB-RSS@100")
	b.ReportMetric(rss, "MiB-RSS@2000")
	b.ReportMetric(live100, "tensors@100")
	b.ReportMetric(live, "tensors@2000")
	if rss > rss100*1.05 || live > live100 {
		b.Errorf("memory grew: RSS %.0f → %.0f MiB, live tensors %.0f → %.0f", rss100, rss, live100, live)
	}
	fmt.Printf("memory: RSS %.1f MiB at step 100, %.1f MiB at step 2000; live tensors %.0f → %.0f\n", rss100, rss, live100, live)
}
