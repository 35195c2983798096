package models

import (
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// tinyConfig is a model small enough to build in milliseconds.
func tinyConfig(core experiments.Core) experiments.ModelConfig {
	c := experiments.DefaultModelConfig()
	c.Core, c.Hidden, c.Heads, c.Layers = core, 16, 2, 1
	c.HLayers, c.LLayers, c.HCycles, c.LCycles, c.Depth = 1, 1, 2, 2, 3
	return c
}

// allCores is every core, for the tests that cover them all.
var allCores = experiments.Core("").Values()

var tinyShape = Shape{Vocab: 6, SeqLen: 5, PuzzleIDs: 1}

func mustNew(t testing.TB, cfg experiments.ModelConfig, shape Shape) *Model {
	t.Helper()
	// Grad mode is thread-local (docs/dependencies.md, "Threads"); a test goroutine that
	// exits locked takes its thread with it.
	runtime.LockOSThread()
	m, err := New(cfg, shape, Placement{Device: gotch.CPU}, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Params.Drop)
	return m
}

func tokens(b, l int64, vocab int) *ts.Tensor {
	v := make([]int64, b*l)
	for i := range v {
		v[i] = int64(1 + i%(vocab-1))
	}
	return ts.MustOfSlice(v).MustView([]int64{b, l}, true)
}

func TestParameterCountsAtPaperSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four 5–27M-parameter models")
	}
	sudoku := Shape{Vocab: 11, SeqLen: 81, PuzzleIDs: 1}
	paper := func(core experiments.Core, mod func(*experiments.ModelConfig)) experiments.ModelConfig {
		c := experiments.DefaultModelConfig()
		c.Core, c.Hidden, c.Heads, c.Expansion, c.Pos, c.Mixer = core, 512, 8, 4, "rope", "attention"
		mod(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  experiments.ModelConfig
		want int64
	}{
		// docs/models.md, "Sizes": 2 × (148,992 + 2,359,296) + I/O.
		{"TRM-MLP sudoku (5.03M)", paper("trm", func(c *experiments.ModelConfig) {
			c.Layers, c.Mixer, c.Pos, c.PuzzleEmbLen = 2, "mlp", "none", 16
		}), 5_028_866},
		{"TRM-Att sudoku (6.83M)", paper("trm", func(c *experiments.ModelConfig) {
			c.Layers, c.PuzzleEmbLen = 2, 16
		}), 6_828_034},
		// HRM issue #12 logs num_params 27275266 for Sudoku.
		{"HRM sudoku (27.3M)", paper("hrm", func(c *experiments.ModelConfig) {
			c.HLayers, c.LLayers, c.PuzzleEmbLen = 4, 4, 1
		}), 27_275_266},
		// ARC Prize baseline: 8 layers, 12 heads of width 42.
		{"transformer baseline (27.1M)", paper("transformer", func(c *experiments.ModelConfig) {
			c.Layers, c.Heads, c.PuzzleEmbLen = 8, 12, 1
		}), 27_144_194},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustNew(t, tt.cfg, sudoku)
			if got := m.Count(); got != tt.want {
				t.Fatalf("parameters = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestGradientModeCutsTheLeadingCalls(t *testing.T) {
	type call struct {
		name string
		grad bool
	}
	seq := func(names string, withGrad int) []call {
		var out []call
		for i, r := range names {
			out = append(out, call{string(r), i >= len(names)-withGrad})
		}
		return out
	}
	tests := []struct {
		core experiments.Core
		grad experiments.Gradient
		T, n int
		want []call
	}{
		// TRM T=3, n=2: (z z y) × 3; last-cycle differentiates only the last cycle.
		{"trm", experiments.GradientLastCycle, 3, 2, seq("zzyzzyzzy", 3)},
		{"trm", experiments.GradientOneStep, 3, 2, seq("zzyzzyzzy", 2)},
		{"trm", experiments.GradientFull, 3, 2, seq("zzyzzyzzy", 9)},
		// HRM h=2, l=2: (L L H) × 2; one-step differentiates the last L and H.
		{"hrm", experiments.GradientOneStep, 2, 2, seq("LLHLLH", 2)},
		{"hrm", experiments.GradientLastCycle, 2, 2, seq("LLHLLH", 3)},
		{"hrm", experiments.GradientFull, 2, 2, seq("LLHLLH", 6)},
		{"transformer", experiments.GradientLastCycle, 1, 1, seq("z", 1)},
		{"ut", experiments.GradientOneStep, 1, 1, []call{{"ut", false}, {"ut", false}, {"ut", true}}},
		{"ut", experiments.GradientFull, 1, 1, []call{{"ut", true}, {"ut", true}, {"ut", true}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.core)+"/"+string(tt.grad), func(t *testing.T) {
			cfg := tinyConfig(tt.core)
			cfg.HCycles, cfg.LCycles = tt.T, tt.n
			m := mustNew(t, cfg, tinyShape)
			var got []call
			m.trace = func(name string, grad bool) { got = append(got, call{name, grad}) }
			c := m.InitCarry(2)
			x := tokens(2, 5, 6)
			next, out := m.Segment(c, x, nil, tt.grad)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("calls (name, differentiated) = %v, want %v", got, tt.want)
			}
			for _, tt := range []*ts.Tensor{x} {
				tt.MustDrop()
			}
			out.Drop()
			next.Drop()
			c.Drop()
		})
	}
}

// TestRecursionWiring recomputes one segment from the core's own networks:
// it fails if x reaches TRM's y update or HRM's H module, or if the
// injections are not the ones the papers give.
func TestRecursionWiring(t *testing.T) {
	for _, core := range []experiments.Core{experiments.CoreTRM, experiments.CoreHRM} {
		t.Run(string(core), func(t *testing.T) {
			cfg := tinyConfig(core)
			cfg.HCycles, cfg.LCycles = 1, 1
			m := mustNew(t, cfg, tinyShape)
			tok := tokens(2, 5, 6)
			defer tok.MustDrop()
			c := m.InitCarry(2)
			defer c.Drop()
			next, out := m.Segment(c, tok, nil, experiments.GradientFull)
			defer next.Drop()
			defer out.Drop()
			x := m.embedInput(tok, nil)
			defer x.MustDrop()
			var first, second stack
			switch k := m.core.(type) {
			case *trm:
				first, second = k.f, k.f
			case *hrm:
				first, second = k.L, k.H
			}
			// The latent (z / z_L) is updated from the answer state plus x.
			inj := c.States[0].MustAdd(x, false)
			lat := first.forward(c.States[1], inj)
			// The answer (y / z_H) is updated from the new latent, without x.
			ans := second.forward(c.States[0], lat)
			withX := lat.MustAdd(x, false)
			leaky := second.forward(c.States[0], withX)
			for _, tc := range []struct {
				name      string
				got, want *ts.Tensor
			}{
				{"latent", next.States[1], lat},
				{"answer", next.States[0], ans},
			} {
				if d := maxAbsDiff(tc.got, tc.want); d > 1e-6 {
					t.Fatalf("%s state differs from f(state, injection) by %g", tc.name, d)
				}
			}
			if d := maxAbsDiff(next.States[0], leaky); d < 1e-4 {
				t.Fatalf("answer state is insensitive to whether x is injected (diff %g)", d)
			}
			for _, t := range []*ts.Tensor{inj, lat, ans, withX, leaky} {
				t.MustDrop()
			}
		})
	}
}

func maxAbsDiff(a, b *ts.Tensor) float64 {
	return a.MustSub(b, false).MustAbs(true).MustMax(true).Float64Values(true)[0]
}

func TestACTWeightsSumToOne(t *testing.T) {
	// Two positions over three steps: the first never crosses 1 − ε and
	// halts on the last step with its remainder; the second crosses at step 2.
	ps := [][]float32{{0.3, 0.6}, {0.5, 0.6}, {0.4, 0.9}}
	wantW := [][]float64{{0.3, 0.6}, {0.5, 0.4}, {0.2, 0}}
	wantPonder := (3.2 + 2.4) / 2 // N + R per position
	a := newACTState([]int64{1, 2, 1}, gotch.CPU)
	threshold, one := ts.FloatScalar(1-actEpsilon), ts.FloatScalar(1)
	sum := []float64{0, 0}
	for step, p := range ps {
		pt := ts.MustOfSlice(p).MustView([]int64{1, 2}, true)
		w := a.step(pt, step == len(ps)-1, threshold, one)
		got := w.Float64Values(true)
		pt.MustDrop()
		for i := range got {
			if math.Abs(got[i]-wantW[step][i]) > 1e-6 {
				t.Fatalf("step %d position %d: weight %v, want %v", step, i, got[i], wantW[step][i])
			}
			sum[i] += got[i]
		}
	}
	for i, s := range sum {
		if math.Abs(s-1) > 1e-6 {
			t.Fatalf("position %d: ACT weights sum to %v, want 1", i, s)
		}
	}
	a.output.MustDrop()
	if got := a.ponder().Float64Values(true)[0]; math.Abs(got-wantPonder) > 1e-6 {
		t.Fatalf("ponder cost %v, want %v", got, wantPonder)
	}
}

func TestSegmentLeaksNothing(t *testing.T) {
	for _, core := range allCores {
		t.Run(string(core), func(t *testing.T) {
			cfg := tinyConfig(core)
			cfg.ACT = core == experiments.CoreUT
			cfg.PuzzleEmbLen = 2
			m := mustNew(t, cfg, tinyShape)
			defer m.Puzzle.Drop()
			tok := tokens(3, 5, 6)
			defer tok.MustDrop()
			step := func() {
				c := m.InitCarry(3)
				rows := m.Puzzle.Rows([]int32{0, 0, 0}, gotch.CPU)
				next, out := m.Segment(c, tok, rows, experiments.GradientLastCycle)
				loss := out.Logits.MustMean(gotch.Float, false)
				if out.Ponder != nil {
					loss = loss.MustAdd(out.Ponder, true)
				}
				loss.MustBackward()
				loss.MustDrop()
				m.Puzzle.Step(0.01, 0.1)
				out.Drop()
				d := next.Detach()
				next.Drop()
				d.Drop()
				c.Drop()
			}
			step()
			runtime.GC() // finalizers of earlier tests may only lower the count
			before := LiveTensors()
			for i := 0; i < 5; i++ {
				step()
			}
			if after := LiveTensors(); after > before {
				t.Fatalf("live tensors %d → %d over 5 segments, want no growth", before, after)
			}
		})
	}
}

func TestSegmentFLOPsScaleWithCalls(t *testing.T) {
	m := mustNew(t, tinyConfig("trm"), tinyShape)
	infer := m.SegmentFLOPs(experiments.GradientLastCycle, false)
	lastCycle := m.SegmentFLOPs(experiments.GradientLastCycle, true)
	full := m.SegmentFLOPs(experiments.GradientFull, true)
	if !(infer > 0 && infer < lastCycle && lastCycle < full) {
		t.Fatalf("FLOPs inference %g, last-cycle %g, full %g: want 0 < inference < last-cycle < full", infer, lastCycle, full)
	}
}
