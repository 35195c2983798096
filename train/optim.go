package train

import (
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/kernels"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/models"
)

// zeroGrad clears the gradients before a backward pass, in one call into
// the kernels (gotch's ZeroGrad also leaks the handle it reads each
// gradient through).
func zeroGrad(params []*ts.Tensor) { kernels.ZeroGrads(params) }

// clipGradNorm scales all gradients so their global L2 norm is at most max
// and returns the norm before clipping: one call, one host read.
func clipGradNorm(params []*ts.Tensor, max float64) float64 {
	return kernels.ClipGradNorm(params, max)
}

// ema keeps an exponential moving average of the parameters
// (TRM models/ema.py: shadow ← rate·shadow + (1−rate)·param).
type ema struct {
	shadow []*ts.Tensor
	rate   float64
}

func newEMA(params []*ts.Tensor, rate float64) *ema {
	e := &ema{rate: rate}
	models.NoGrad(func() {
		for _, p := range params {
			e.shadow = append(e.shadow, p.MustDetachCopy(false))
		}
	})
	return e
}

func (e *ema) update(params []*ts.Tensor) {
	w := ts.FloatScalar(1 - e.rate)
	models.NoGrad(func() {
		for i, p := range params {
			e.shadow[i].MustLerp_(p, w)
		}
	})
	w.MustDrop()
}

// swap exchanges the live parameters with the averaged ones; calling it
// twice restores them. Evaluation runs between two swaps.
func (e *ema) swap(params []*ts.Tensor) {
	models.NoGrad(func() {
		for i, p := range params {
			tmp := p.MustDetachCopy(false)
			p.Copy_(e.shadow[i])
			e.shadow[i].Copy_(tmp)
			tmp.MustDrop()
		}
	})
}

func (e *ema) drop() {
	for _, t := range e.shadow {
		t.MustDrop()
	}
}

// learningRate is linear warm-up to the peak, then constant or cosine decay
// to peak·lr_min_ratio (HRM pretrain.py cosine_schedule_with_warmup_lr_lambda;
// lr_min_ratio = 1 makes it constant, the papers' setting).
func learningRate(cfg experiments.TrainConfig, step int) float64 {
	if step < cfg.Warmup {
		return cfg.LR * float64(step+1) / float64(max(cfg.Warmup, 1))
	}
	switch cfg.LRSchedule {
	case experiments.LRConstant:
		return cfg.LR
	case experiments.LRCosine:
		if cfg.Steps <= cfg.Warmup {
			return cfg.LR
		}
		progress := float64(step-cfg.Warmup) / float64(cfg.Steps-cfg.Warmup)
		return cfg.LR * (cfg.LRMin + (1-cfg.LRMin)*0.5*(1+math.Cos(math.Pi*progress)))
	}
	panic(experiments.UnknownValue("train.lr_schedule", cfg.LRSchedule))
}

func scalars(v ...float64) []*ts.Scalar {
	out := make([]*ts.Scalar, len(v))
	for i, x := range v {
		out[i] = ts.FloatScalar(x)
	}
	return out
}

func dropScalars(s []*ts.Scalar) {
	for _, x := range s {
		x.MustDrop()
	}
}

// hostTensor copies a Go slice to a tensor of the given shape on device.
func hostTensor[T int64 | bool](v []T, shape []int64, device gotch.Device) *ts.Tensor {
	t := ts.MustOfSlice(v).MustView(shape, true)
	if device != gotch.CPU {
		t = t.MustTo(device, true)
	}
	return t
}
