package models

import (
	"math"

	"github.com/sugarme/gotch"
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

// ownAll makes sure no returned state aliases a caller's tensor.
func ownAll(states []*ts.Tensor, owned map[*ts.Tensor]bool) []*ts.Tensor {
	for i, s := range states {
		if owned[s] {
			states[i] = s.MustShallowClone()
		}
	}
	return states
}

// transformer is the same-size flat baseline (ARC Prize's hrm_act_v2, TRM's
// transformers_baseline.py): one pass of a layer stack per segment with the
// input re-injected, z ← stack(z + x). With one loop it is direct prediction.
type transformer struct {
	stack  stack
	zInit  *ts.Tensor
	shape  blockShape
	layers int
}

func newTransformer(p *Params, cfg experiments.ModelConfig, s blockShape) *transformer {
	return &transformer{
		stack:  newStack(p, "stack", cfg.Layers, s),
		zInit:  p.buffer("z_init", p.truncNormal([]int64{1, 1, s.hidden}, 1)),
		shape:  s,
		layers: cfg.Layers,
	}
}

func (c *transformer) initStates() []*ts.Tensor { return []*ts.Tensor{c.zInit} }

func (c *transformer) answer() int { return 0 }

// calls is one differentiated call whatever the mode: a single call is
// every mode's tail.
func (c *transformer) calls(grad experiments.Gradient) (int, int) {
	switch grad {
	case experiments.GradientOneStep, experiments.GradientLastCycle, experiments.GradientFull:
		return 1, 1
	}
	panic(experiments.UnknownValue("train.gradient", grad))
}

func (c *transformer) callFLOPs(*Model) float64 { return float64(c.layers) * blockFLOPs(c.shape) }

func (c *transformer) refine(m *Model, states []*ts.Tensor, x *ts.Tensor, grad experiments.Gradient) ([]*ts.Tensor, *ts.Tensor) {
	total, diff := c.calls(grad)
	run := &runCalls{m: m, total: total, noGrad: total - diff}
	z := run.do("z", func() *ts.Tensor { return c.stack.forward(states[0], x) })
	return []*ts.Tensor{z}, nil
}

// sinusoid fills a (rows, D) table of the Transformer timing signal
// (Vaswani et al.; Dehghani et al. add it for position and for step).
func sinusoid(rows, d int64) []float32 {
	out := make([]float32, 0, rows*d)
	half := d / 2
	for r := int64(0); r < rows; r++ {
		for i := int64(0); i < d; i++ {
			k := i % half
			if half == 0 {
				k = 0
			}
			inv := math.Pow(10000, -float64(k)/float64(max(half-1, 1)))
			if i < half {
				out = append(out, float32(math.Sin(float64(r)*inv)))
			} else {
				out = append(out, float32(math.Cos(float64(r)*inv)))
			}
		}
	}
	return out
}

func tableOf(p *Params, name string, v []float32, shape []int64) *ts.Tensor {
	return p.buffer(name, p.fromHost(v, shape))
}

func zerosLike(shape []int64, device gotch.Device) *ts.Tensor {
	return ts.MustZeros(shape, gotch.Float, device)
}
