package models

import (
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// ut is the Universal Transformer (Dehghani et al. 2018): one weight-tied
// block (group) applied depth times, with the position and timestep signals
// added before each application, and optional per-position ACT (Graves
// 2016, t2t universal_transformer_act).
//
// Inside outerloop the UT runs within the same outer loop as every core:
// with train.loops = 1 it is the plain UT; with more loops it is a UT under
// deep supervision, its state z carried and detached between segments and
// the input re-injected (h = z + x) at the start of each segment.
type ut struct {
	block     stack
	zInit     *ts.Tensor
	timing    *ts.Tensor // (depth, L', D): position + step signals, in dtype
	dtype     gotch.DType
	halt      linear // D → 1 halting unit, when ACT
	depth     int
	act       bool
	threshold *ts.Scalar // 1 − ε
	one       *ts.Scalar
	shape     blockShape
	layers    int
}

// actEpsilon is t2t's act_epsilon: a position halts once its accumulated
// halting probability exceeds 1 − ε.
const actEpsilon = 0.01

func newUT(p *Params, cfg experiments.ModelConfig, s blockShape, seq int64) *ut {
	d := s.hidden
	pos := sinusoid(seq, d)
	step := sinusoid(int64(cfg.Depth), d)
	timing := make([]float32, 0, int64(cfg.Depth)*seq*d)
	for t := 0; t < cfg.Depth; t++ {
		for i := int64(0); i < seq; i++ {
			for k := int64(0); k < d; k++ {
				timing = append(timing, pos[i*d+k]+step[int64(t)*d+k])
			}
		}
	}
	c := &ut{
		block:     newStack(p, "block", cfg.Layers, s),
		zInit:     p.buffer("z_init", p.truncNormal([]int64{1, 1, d}, 1)),
		timing:    tableOf(p, "timing", timing, []int64{int64(cfg.Depth), seq, d}),
		dtype:     s.dtype,
		depth:     cfg.Depth,
		act:       cfg.ACT,
		threshold: ts.FloatScalar(1 - actEpsilon),
		one:       ts.FloatScalar(1),
		shape:     s,
		layers:    cfg.Layers,
	}
	if cfg.ACT {
		// t2t act_halting_bias_init = 1.0: start by pondering few steps.
		c.halt = linear{
			w: p.param("halt.weight", p.truncNormal([]int64{1, d}, 1/math.Sqrt(float64(d)))),
			b: p.param("halt.bias", ts.MustOnes([]int64{1}, gotch.Float, p.device)),
		}
	}
	if s.dtype != gotch.Float { // the signals join bf16 states: keep them in bf16
		c.timing = p.buffer("timing_"+s.dtype.String(), c.timing.MustTotype(s.dtype, false))
	}
	return c
}

func (c *ut) initStates() []*ts.Tensor { return []*ts.Tensor{c.zInit} }

func (c *ut) answer() int { return 0 }

func (c *ut) calls(grad experiments.Gradient) (int, int) {
	switch grad {
	case experiments.GradientOneStep:
		if !c.act {
			return c.depth, 1
		}
		return c.depth, c.depth // ACT trains end to end (BPTT through all steps)
	case experiments.GradientLastCycle, experiments.GradientFull:
		return c.depth, c.depth // ut has no inner cycles: the segment is its last
	}
	panic(experiments.UnknownValue("train.gradient", grad))
}

func (c *ut) callFLOPs(*Model) float64 { return float64(c.layers) * blockFLOPs(c.shape) }

func (c *ut) refine(m *Model, states []*ts.Tensor, x *ts.Tensor, grad experiments.Gradient) ([]*ts.Tensor, *ts.Tensor) {
	total, diff := c.calls(grad)
	run := &runCalls{m: m, total: total, noGrad: total - diff}
	h := states[0].MustAdd(x, false) // input injection at the segment start
	var act *actState
	if c.act {
		act = newACTState(h.MustSize(), m.Params.device)
	}
	for t := 0; t < c.depth; t++ {
		signal := c.timing.MustSelect(0, int64(t), false) // (L', D)
		ht := h.MustAdd(signal, false)
		signal.MustDrop()
		var w *ts.Tensor
		if act != nil {
			// ACT's bookkeeping is float32 whatever the compute dtype.
			p := c.halt.forward(ht).MustTotype(gotch.Float, true).MustSigmoid(true).MustSqueezeDim(-1, true) // (B, L')
			w = act.step(p, t == c.depth-1, c.threshold, c.one)
			p.MustDrop()
		}
		next := run.do("ut", func() *ts.Tensor { return c.block.forward(ht, nil) })
		ht.MustDrop()
		h.MustDrop()
		h = next
		if act != nil {
			act.accumulate(w, h)
			w.MustDrop()
		}
	}
	if act == nil {
		return []*ts.Tensor{h}, nil
	}
	h.MustDrop()
	out := act.output
	if out.DType() != c.dtype {
		out = out.MustTotype(c.dtype, true)
	}
	return []*ts.Tensor{out}, act.ponder()
}

// actState is Graves' ACT bookkeeping per position. The output is
// Σ_t w_t·h_t with w_t = p_t while running and the remainder R = 1 − Σp at
// the halting step, so the weights of every position sum to one.
type actState struct {
	haltProb, remainders, updates *ts.Tensor // (B, L')
	output                        *ts.Tensor // (B, L', D)
}

func newACTState(shape []int64, device gotch.Device) *actState {
	bl := shape[:2]
	return &actState{
		haltProb:   zerosLike(bl, device),
		remainders: zerosLike(bl, device),
		updates:    zerosLike(bl, device),
		output:     zerosLike(shape, device),
	}
}

// step consumes this step's halting probabilities p (B, L') and returns the
// weight of this step's state. On the last step every running position
// halts with its remainder.
func (a *actState) step(p *ts.Tensor, last bool, threshold, one *ts.Scalar) *ts.Tensor {
	running := a.haltProb.MustLt(one, false).MustTotype(p.DType(), true)
	var newHalted, still *ts.Tensor
	if last {
		newHalted, still = running, running.MustZerosLike(false)
	} else {
		pr := p.MustMul(running, false)
		total := a.haltProb.MustAdd(pr, false)
		newHalted = total.MustGt(threshold, false).MustTotype(p.DType(), true).MustMul(running, true)
		still = total.MustLe(threshold, true).MustTotype(p.DType(), true).MustMul(running, true)
		pr.MustDrop()
		running.MustDrop()
	}
	pStill := p.MustMul(still, false)
	a.haltProb = replace(a.haltProb, a.haltProb.MustAdd(pStill, false))
	rem := a.haltProb.MustRsubScalar(one, false).MustMul(newHalted, true) // (1 − Σp) where halting now
	a.remainders = replace(a.remainders, a.remainders.MustAdd(rem, false))
	a.haltProb = replace(a.haltProb, a.haltProb.MustAdd(rem, false))
	a.updates = replace(a.updates, a.updates.MustAdd(still, false).MustAdd(newHalted, true))
	w := pStill.MustAdd(rem, true)
	rem.MustDrop()
	still.MustDrop()
	newHalted.MustDrop()
	return w
}

func (a *actState) accumulate(w, h *ts.Tensor) {
	wh := w.MustUnsqueeze(-1, false).MustMul(h, true)
	a.output = replace(a.output, a.output.MustAdd(wh, false))
	wh.MustDrop()
}

// ponder is the mean ponder cost N + R over positions.
func (a *actState) ponder() *ts.Tensor {
	c := a.updates.MustAdd(a.remainders, false).MustMean(gotch.Float, true)
	for _, t := range []*ts.Tensor{a.haltProb, a.remainders, a.updates} {
		t.MustDrop()
	}
	return c
}

func replace(old, next *ts.Tensor) *ts.Tensor {
	old.MustDrop()
	return next
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
