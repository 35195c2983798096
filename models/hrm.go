package models

import (
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// hrm is the Hierarchical Reasoning Model (Wang et al. 2025, hrm_act_v1.py):
// a low-level module L updates z_L from (z_L, z_H + x) l_cycles times, then
// the high-level module H updates z_H from (z_H, z_L); h_cycles such rounds
// make one segment. H never sees x. The answer is read from z_H.
type hrm struct {
	H, L             stack
	hInit, lInit     *ts.Tensor // (1, 1, D), fixed buffers
	hCycles, lCycles int
	shape            blockShape
	hLayers, lLayers int
}

func newHRM(p *Params, cfg experiments.ModelConfig, s blockShape) *hrm {
	return &hrm{
		H: newStack(p, "H", cfg.HLayers, s),
		L: newStack(p, "L", cfg.LLayers, s),
		// Drawn once from a truncated normal, std 1, registered as buffers:
		// fixed, broadcast to every position on reset (HRM H_init/L_init).
		hInit:   p.buffer("z_H_init", p.truncNormal([]int64{1, 1, s.hidden}, 1)),
		lInit:   p.buffer("z_L_init", p.truncNormal([]int64{1, 1, s.hidden}, 1)),
		hCycles: cfg.HCycles,
		lCycles: cfg.LCycles,
		shape:   s,
		hLayers: cfg.HLayers,
		lLayers: cfg.LLayers,
	}
}

func (c *hrm) initStates() []*ts.Tensor { return []*ts.Tensor{c.hInit, c.lInit} }

func (c *hrm) answer() int { return 0 }

func (c *hrm) calls(grad experiments.Gradient) (int, int) {
	total := c.hCycles * (c.lCycles + 1)
	switch grad {
	case experiments.GradientFull:
		return total, total
	case experiments.GradientLastCycle:
		return total, c.lCycles + 1
	case experiments.GradientOneStep: // HRM's own: the final L call and the final H call
		return total, min(2, total)
	}
	panic(experiments.UnknownValue("train.gradient", grad))
}

// callFLOPs averages an L and an H call, weighted by how often each runs.
func (c *hrm) callFLOPs(*Model) float64 {
	per := blockFLOPs(c.shape)
	n := float64(c.lCycles + 1)
	return per * (float64(c.lCycles)*float64(c.lLayers) + float64(c.hLayers)) / n
}

func (c *hrm) refine(m *Model, states []*ts.Tensor, x *ts.Tensor, grad experiments.Gradient) ([]*ts.Tensor, *ts.Tensor) {
	total, diff := c.calls(grad)
	run := &runCalls{m: m, total: total, noGrad: total - diff}
	owned := callerOwned(states)
	zH, zL := states[0], states[1]
	for h := 0; h < c.hCycles; h++ {
		for l := 0; l < c.lCycles; l++ {
			next := run.do("L", func() *ts.Tensor {
				inj := zH.MustAdd(x, false) // z_H + x
				out := c.L.forward(zL, inj)
				inj.MustDrop()
				return out
			})
			keep(&zL, next, owned)
		}
		next := run.do("H", func() *ts.Tensor { return c.H.forward(zH, zL) })
		keep(&zH, next, owned)
	}
	return ownAll([]*ts.Tensor{zH, zL}, owned), nil
}
