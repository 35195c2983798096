package models

import (
	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// PuzzleEmbedding is the per-puzzle-variant learned prefix of HRM and TRM
// (CastedSparseEmbedding): a zero-initialised table with one row per puzzle
// identifier, prepended to the input as the first prefix position.
//
// The table lives in host memory whatever the model's device: at ARC-AGI-1
// scale (≈ 730k variant ids × 512 floats ≈ 1.5 GB in fp32, up to 2 GB with
// ConceptARC) it would crowd a GPU, and a step only touches the batch's rows,
// which are gathered and moved to the device. Like the papers we treat it as
// a buffer, not a parameter: it is not in Count() and is trained by sign-SGD
// with decoupled weight decay instead of AdamW ("Adam ≈ SignSGD when
// gradients are very sparse", HRM sparse_embedding.py).
type PuzzleEmbedding struct {
	Table *ts.Tensor // (N, D) float32, CPU
	ids   []int32
	rows  *ts.Tensor // (B, D) leaf on the model device, this batch
}

func newPuzzleEmbedding(n int, d int64) *PuzzleEmbedding {
	return &PuzzleEmbedding{Table: ts.MustZeros([]int64{int64(n), d}, gotch.Float, gotch.CPU)}
}

// Rows gathers the batch's rows onto device as a leaf that collects
// gradients; Step uses them. The returned tensor is owned by e.
func (e *PuzzleEmbedding) Rows(ids []int32, device gotch.Device) *ts.Tensor {
	e.dropRows()
	idx := int64Tensor(ids)
	r := e.Table.MustIndexSelect(0, idx, false).MustTo(device, true)
	idx.MustDrop()
	r.MustRequiresGrad_(true)
	e.ids, e.rows = append(e.ids[:0], ids...), r
	return r
}

// Step applies sign-SGD with decoupled weight decay to the rows gathered by
// the last Rows call: the gradients of repeated ids are summed first, then
// p ← p·(1 − lr·wd) − lr·sign(g). Rows outside the batch are untouched.
func (e *PuzzleEmbedding) Step(lr, weightDecay float64) {
	if e.rows == nil {
		return
	}
	g := e.rows.MustGrad(false)
	if !g.MustDefined() {
		g.MustDrop()
		return
	}
	unique, inverse := uniqueIDs(e.ids)
	inv := int64Tensor(inverse)
	uidx := int64Tensor(unique)
	gcpu := g.MustTo(gotch.CPU, true)
	gsum := ts.MustZeros([]int64{int64(len(unique)), gcpu.MustSize()[1]}, gotch.Float, gotch.CPU).
		MustIndexAdd(0, inv, gcpu, true)
	gcpu.MustDrop()
	NoGrad(func() {
		decay, step := ts.FloatScalar(1-lr*weightDecay), ts.FloatScalar(lr)
		cur := e.Table.MustIndexSelect(0, uidx, false).MustMulScalar(decay, true)
		upd := gsum.MustSign(false).MustMulScalar(step, true)
		next := cur.MustSub(upd, true)
		e.Table.MustIndexCopy_(0, uidx, next)
		for _, t := range []*ts.Tensor{upd, next} {
			t.MustDrop()
		}
		decay.MustDrop()
		step.MustDrop()
	})
	for _, t := range []*ts.Tensor{gsum, inv, uidx} {
		t.MustDrop()
	}
	e.dropRows()
}

func (e *PuzzleEmbedding) dropRows() {
	if e.rows != nil {
		e.rows.MustDrop()
		e.rows = nil
	}
}

// Drop frees the table.
func (e *PuzzleEmbedding) Drop() {
	e.dropRows()
	e.Table.MustDrop()
}

// uniqueIDs returns the distinct ids in first-seen order and, for each
// input, the index of its id among them.
func uniqueIDs(ids []int32) (unique []int64, inverse []int64) {
	at := map[int32]int64{}
	inverse = make([]int64, len(ids))
	for i, id := range ids {
		j, ok := at[id]
		if !ok {
			j = int64(len(unique))
			at[id] = j
			unique = append(unique, int64(id))
		}
		inverse[i] = j
	}
	return unique, inverse
}

func int64Tensor(v any) *ts.Tensor {
	switch x := v.(type) {
	case []int32:
		w := make([]int64, len(x))
		for i, e := range x {
			w[i] = int64(e)
		}
		return ts.MustOfSlice(w)
	default:
		return ts.MustOfSlice(v)
	}
}
