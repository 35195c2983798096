package train

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/tasks"
)

// Losses (HRM/TRM models/losses.py). The token loss of a sample is the mean
// over its labelled positions, and the batch loss the mean over samples, so
// a sample's weight does not depend on how many cells it has.

// constants holds the scalars the losses reuse every step; gotch scalars
// are C objects, so they are made once.
type constants struct {
	zero, one, izero, ignore *ts.Scalar
}

func newConstants() *constants {
	return &constants{zero: ts.FloatScalar(0), one: ts.FloatScalar(1), izero: ts.IntScalar(0), ignore: ts.IntScalar(tasks.IgnoreLabel)}
}

func (c *constants) drop() {
	for _, s := range []*ts.Scalar{c.zero, c.one, c.izero, c.ignore} {
		s.MustDrop()
	}
}

// tokenLoss is the per-sample mean cross-entropy over labelled positions,
// averaged over the batch. logits (B, L, V); labels (B, L) int64 with
// tasks.IgnoreLabel where there is no loss.
func tokenLoss(kind experiments.Loss, logits, labels *ts.Tensor, k *constants) *ts.Tensor {
	var logp *ts.Tensor // (B, L, V)
	switch kind {
	case experiments.LossSoftmax:
		logp = logits.MustLogSoftmax(-1, gotch.Float, false)
	case experiments.LossStablemax:
		logp = stablemaxLogProbs(logits, k)
	default:
		panic(experiments.UnknownValue("train.loss", kind))
	}
	valid := labels.MustNe(k.ignore, false)                                            // (B, L)
	safe := labels.MustWhereScalarother(valid, k.izero, false).MustUnsqueeze(-1, true) // ignore → class 0
	picked := logp.MustGather(-1, safe, false, true).MustSqueezeDim(-1, true)          // (B, L)
	safe.MustDrop()
	dtype := picked.DType()
	validF := valid.MustTotype(dtype, true)
	nll := picked.MustNeg(true).MustMul(validF, true).MustSumDimIntlist([]int64{-1}, false, dtype, true)
	count := validF.MustSumDimIntlist([]int64{-1}, false, dtype, true).MustClampMin(k.one, true)
	loss := nll.MustDiv(count, true).MustMean(gotch.Float, true)
	count.MustDrop()
	return loss
}

// stablemaxLogProbs is log(s(x_i) / Σ_j s(x_j)) with s(x) = x + 1 for x ≥ 0
// and 1/(1 − x) for x < 0 (Prieto et al. 2025), computed in float64 as the
// papers do: s grows only linearly, so the normaliser needs the precision.
func stablemaxLogProbs(logits *ts.Tensor, k *constants) *ts.Tensor {
	x := logits.MustTotype(gotch.Double, false)
	pos := x.MustGe(k.zero, false)
	above := x.MustAddScalar(k.one, false)
	// Clamp before the x < 0 branch: where() does not select 1/(1 − x) at
	// x = 1, but its backward would multiply 0 by ∞ and return NaN.
	below := x.MustClampMax(k.zero, true).MustRsubScalar(k.one, true).MustReciprocal(true)
	s := above.MustWhereSelf(pos, below, true)
	pos.MustDrop()
	below.MustDrop()
	norm := s.MustSumDimIntlist([]int64{-1}, true, gotch.Double, false)
	logp := s.MustDiv(norm, true).MustLog(true)
	norm.MustDrop()
	return logp
}

// correctness returns, without gradient, which samples are fully right
// (B bool), the number of right labelled tokens and the number of labelled
// tokens.
func correctness(logits, labels *ts.Tensor, k *constants) (seq *ts.Tensor, right, total float64) {
	pred := logits.MustArgmax([]int64{-1}, false, false) // (B, L)
	valid := labels.MustNe(k.ignore, false)
	hit := pred.MustEqTensor(labels, true).MustLogicalAnd(valid, true)
	nHit := hit.MustSumDimIntlist([]int64{-1}, false, gotch.Int64, false)
	nValid := valid.MustSumDimIntlist([]int64{-1}, false, gotch.Int64, true)
	seq = nHit.MustEqTensor(nValid, false)
	right = nHit.MustSum(gotch.Double, true).Float64Values(true)[0]
	total = nValid.MustSum(gotch.Double, true).Float64Values(true)[0]
	hit.MustDrop()
	return seq, right, total
}

// bce is the mean binary cross-entropy with logits.
func bce(logits, target *ts.Tensor) *ts.Tensor {
	return logits.MustBinaryCrossEntropyWithLogits(target, ts.None, ts.None, 1, false)
}
