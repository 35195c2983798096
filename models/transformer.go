package models

import (
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

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
