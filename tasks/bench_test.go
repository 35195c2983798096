package tasks

import (
	"math/rand/v2"
	"testing"

	"outerloop/experiments"
)

// BenchmarkGenerateSudoku9 measures 9×9 minimal unique-solution puzzles per
// second on one core.
func BenchmarkGenerateSudoku9(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 0
	for b.Loop() {
		if _, err := GenerateSudoku(rng, 9, 0, 0); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "puzzles/s")
}

// BenchmarkGenerateMazeHard measures 30×30 mazes with a unique shortest
// path of at least 110 steps per second on one core.
func BenchmarkGenerateMazeHard(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := 0
	for b.Loop() {
		if _, err := GenerateMaze(rng, 30, 110); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "mazes/s")
}

// BenchmarkBuild measures whole builds of the CPU-experiment sizes on all
// cores, without the cache.
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  experiments.TaskConfig
	}{
		{"sudoku4x3000", experiments.TaskConfig{Name: "sudoku", Size: 4, Train: 2500, Test: 500, Seed: 1}},
		{"sudoku9x1000", experiments.TaskConfig{Name: "sudoku", Size: 9, Train: 1000, Test: 200, Seed: 1}},
		{"maze9x3000", experiments.TaskConfig{Name: "maze", Size: 9, Train: 2500, Test: 500, MinPath: 12, Seed: 1}},
		{"arclite12x500", experiments.TaskConfig{Name: "arc-lite", Size: 12, Train: 400, Test: 100, Augment: 100, Seed: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Build(bc.cfg, "", "."); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDraw measures augmented training draws, the per-sample cost the
// training loop pays.
func BenchmarkDraw(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  experiments.TaskConfig
	}{
		{"sudoku9", experiments.TaskConfig{Name: "sudoku", Size: 9, Train: 50, Test: 5, Augment: 1000, Seed: 1}},
		{"maze30", experiments.TaskConfig{Name: "maze", Size: 30, Train: 20, Test: 5, Augment: 7, MinPath: 60, Seed: 1}},
		{"arclite12", experiments.TaskConfig{Name: "arc-lite", Size: 12, Train: 50, Test: 5, Augment: 100, Seed: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d, err := Build(bc.cfg, "", ".")
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			in, lab := make([]int32, d.SeqLen), make([]int32, d.SeqLen)
			for b.Loop() {
				d.Train.Draw(rng, in, lab)
			}
		})
	}
}
