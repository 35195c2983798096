package models

import (
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// trm is the Tiny Recursive Model (Jolicoeur-Martineau 2025, Fig. 3): one
// small network f refines a latent z from (z, y + x) n times, then the
// answer y from (y, z); T such cycles make one segment.
//
// Names follow the TRM paper. Its code (and HRM) call y "z_H", z "z_L",
// T "H_cycles" and n "L_cycles"; the config keeps those keys (h_cycles,
// l_cycles) so one sweep axis covers both cores.
type trm struct {
	f            stack
	yInit, zInit *ts.Tensor // (1, 1, D) fixed, not trained
	T, n         int
	shape        blockShape
	layers       int
}

func newTRM(p *Params, cfg experiments.ModelConfig, s blockShape) *trm {
	d := s.hidden
	return &trm{
		f: newStack(p, "f", cfg.Layers, s),
		// Fixed initial states drawn once, std 1 (TRM trm.py H_init/L_init).
		yInit:  p.buffer("y_init", p.truncNormal([]int64{1, 1, d}, 1)),
		zInit:  p.buffer("z_init", p.truncNormal([]int64{1, 1, d}, 1)),
		T:      cfg.HCycles,
		n:      cfg.LCycles,
		shape:  s,
		layers: cfg.Layers,
	}
}

func (c *trm) initStates() []*ts.Tensor { return []*ts.Tensor{c.yInit, c.zInit} }

func (c *trm) answer() int { return 0 }

func (c *trm) calls(grad experiments.Gradient) (int, int) {
	total := c.T * (c.n + 1)
	switch grad {
	case experiments.GradientFull:
		return total, total
	case experiments.GradientOneStep:
		return total, min(2, total)
	case experiments.GradientLastCycle:
		return total, c.n + 1
	}
	panic(experiments.UnknownValue("train.gradient", grad))
}

func (c *trm) callFLOPs(*Model) float64 { return float64(c.layers) * blockFLOPs(c.shape) }

// refine is deepRecursion: T latentRecursions, the leading calls without
// gradient as the mode says (last-cycle: the first T−1 cycles).
func (c *trm) refine(m *Model, states []*ts.Tensor, x *ts.Tensor, grad experiments.Gradient) ([]*ts.Tensor, *ts.Tensor) {
	total, diff := c.calls(grad)
	run := &runCalls{m: m, total: total, noGrad: total - diff}
	owned := callerOwned(states)
	y, z := states[0], states[1]
	for t := 0; t < c.T; t++ {
		// latentRecursion: z ← f(z, y + x), n times; then y ← f(y, z),
		// without x — its absence tells f which job it is doing (§4.3).
		for i := 0; i < c.n; i++ {
			next := run.do("z", func() *ts.Tensor {
				inj := y.MustAdd(x, false)
				out := c.f.forward(z, inj)
				inj.MustDrop()
				return out
			})
			keep(&z, next, owned)
		}
		next := run.do("y", func() *ts.Tensor { return c.f.forward(y, z) })
		keep(&y, next, owned)
	}
	return ownAll([]*ts.Tensor{y, z}, owned), nil
}
