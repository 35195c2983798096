package train

import (
	"math"

	"github.com/sugarme/gotch/kernels"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// The optimiser is ours rather than gotch's wrapper of torch::optim::AdamW:
// its state must be checkpointed for exact resume (the C++ optimiser's is
// unreachable from Go), β2 must be settable, the papers' AdamATan2 has no
// libtorch counterpart. The update runs in one call into the kernels
// package for all parameters: a single fused pass per float32 parameter on
// the CPU, where the same update as a dozen gotch ops per parameter spent
// more time in dispatch than in arithmetic.

// adam is Adam with decoupled weight decay on every parameter, under one
// of two update rules (train.optimizer). Both keep the same moments, so a
// checkpoint holds the same tensors whichever rule wrote it:
//
//	m ← β1·m + (1−β1)·g    v ← β2·v + (1−β2)·g²    d = √v / √(1−β2^t)
//	p ← p·(1 − lr·wd) − lr/(1−β1^t) · u(m, d)
//
// adamw (Loshchilov & Hutter): u = m / (d + ε), ε = 1e-8, i.e. the usual
// lr·m̂/(√v̂ + ε). adam-atan2: u = atan2(m, d), with no ε, as the
// adam-atan2 package HRM and TRM train with computes it (docs/models.md):
// ≈ m/d while |m| ≪ d, bounded by π/2, and unchanged when the gradients
// are scaled.
type adam struct {
	params []*ts.Tensor
	m, v   []*ts.Tensor
	rule   experiments.Optimizer
	beta1  float64
	beta2  float64
	wd     float64
	eps    float64
	steps  int64 // updates applied, for the bias corrections
}

func newAdam(params []*ts.Tensor, cfg experiments.TrainConfig) *adam {
	o := &adam{params: params, rule: cfg.Optimizer, beta1: cfg.Beta1, beta2: cfg.Beta2, wd: cfg.WeightDecay, eps: 1e-8}
	for _, p := range params {
		o.m = append(o.m, p.MustZerosLike(false))
		o.v = append(o.v, p.MustZerosLike(false))
	}
	return o
}

// step applies one update at learning rate lr, in one call into the
// kernels (a fused loop per parameter on the CPU, ATen ops elsewhere).
// Parameters without a gradient (unused this step) are skipped.
func (o *adam) step(lr float64) {
	o.steps++
	bc1 := 1 - math.Pow(o.beta1, float64(o.steps))
	bc2 := 1 - math.Pow(o.beta2, float64(o.steps))
	kernels.AdamStep(o.params, o.m, o.v, o.kernelRule(), 1-o.beta1, 1-o.beta2, 1-lr*o.wd, math.Sqrt(bc2), o.eps, lr/bc1)
}

func (o *adam) kernelRule() int {
	switch o.rule {
	case experiments.OptimizerAdamW:
		return kernels.AdamW
	case experiments.OptimizerAdamATan2:
		return kernels.AdamATan2
	}
	panic(experiments.UnknownValue("train.optimizer", o.rule))
}

func (o *adam) drop() {
	for i := range o.m {
		o.m[i].MustDrop()
		o.v[i].MustDrop()
	}
}
