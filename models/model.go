package models

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// Placement is where a model computes and in what precision.
type Placement struct {
	Device gotch.Device
	// BF16 runs matmuls and attention in bfloat16 while parameters,
	// norms, the halting logits and the loss stay float32 (the papers'
	// forward_dtype = bfloat16); train sets it from train.precision.
	BF16 bool
}

// dtype is the compute dtype of the hidden states.
func (at Placement) dtype() gotch.DType {
	if at.BF16 {
		return gotch.BFloat16
	}
	return gotch.Float
}

// Shape is what the dataset fixes about a model.
type Shape struct {
	Vocab     int // token vocabulary, PAD = 0
	SeqLen    int // tokens per sample
	PuzzleIDs int // rows of the puzzle-embedding table (0 when unused)
}

// Model is a core with the parts every core shares: token (and puzzle)
// embedding, the output head over the vocabulary and the halting head.
type Model struct {
	Config experiments.ModelConfig
	Shape  Shape
	Params *Params
	Puzzle *PuzzleEmbedding // nil unless Config.PuzzleEmbLen > 0

	core       core
	embed      *ts.Tensor // (V, D)
	pos        *ts.Tensor // (L', D) learned positions, or nil
	embedScale *ts.Scalar
	halfSqrt2  *ts.Scalar
	lmHead     linear
	qHead      linear
	hidden     int64
	prefix     int64       // puzzle-prefix positions
	seq        int64       // SeqLen + prefix
	dtype      gotch.DType // of the hidden states (Placement)

	// trace, when set (tests), sees every network call of a segment with
	// whether its output is attached to the autograd graph.
	trace func(call string, requiresGrad bool)
}

// core is the network inside the loop: it refines the carried states once
// per segment.
type core interface {
	// initStates returns the reset states, each (1, L', D), broadcastable.
	initStates() []*ts.Tensor
	// refine runs one segment from states given the input embedding x and
	// returns new states (and UT's ponder cost, else nil). It frees nothing
	// it was given.
	refine(m *Model, states []*ts.Tensor, x *ts.Tensor, grad experiments.Gradient) ([]*ts.Tensor, *ts.Tensor)
	// answer is the index of the state the heads read (TRM's y, HRM's z_H).
	answer() int
	// calls is how many network calls one segment makes and how many of
	// them the gradient mode differentiates.
	calls(grad experiments.Gradient) (total, differentiated int)
	// callFLOPs is the forward FLOPs of one network call for one sample.
	callFLOPs(m *Model) float64
}

// New builds the model a run configuration asks for, placed as at says,
// with initial weights drawn from seed.
func New(cfg experiments.ModelConfig, shape Shape, at Placement, seed int64) (*Model, error) {
	device := at.Device
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model config: %w", err)
	}
	if shape.Vocab < 2 || shape.SeqLen < 1 {
		return nil, fmt.Errorf("model shape: vocab %d and seq_len %d must be ≥ 2 and ≥ 1", shape.Vocab, shape.SeqLen)
	}
	p := NewParams(device, seed)
	d := int64(cfg.Hidden)
	m := &Model{
		Config:     cfg,
		Shape:      shape,
		Params:     p,
		hidden:     d,
		prefix:     int64(cfg.PuzzleEmbLen),
		seq:        int64(shape.SeqLen + cfg.PuzzleEmbLen),
		dtype:      at.dtype(),
		embedScale: ts.FloatScalar(math.Sqrt(float64(d))),
		halfSqrt2:  ts.FloatScalar(1 / math.Sqrt2),
	}
	// Token embedding: std 1/√D, scaled by √D in forward (HRM embed_scale).
	m.embed = p.param("embed_tokens", p.truncNormal([]int64{int64(shape.Vocab), d}, 1/math.Sqrt(float64(d))))
	if cfg.Pos == experiments.PosLearned {
		m.pos = p.param("embed_pos", p.truncNormal([]int64{m.seq, d}, 1/math.Sqrt(float64(d))))
	}
	if cfg.PuzzleEmbLen > 0 {
		m.Puzzle = newPuzzleEmbedding(max(shape.PuzzleIDs, 1), d)
	}
	var r *rope
	if cfg.Pos == experiments.PosRoPE && cfg.Mixer == experiments.MixerAttention {
		rr := newRoPE(p, "rope", m.seq, d/int64(cfg.Heads), m.dtype)
		r = &rr
	}
	s := blockShape{hidden: d, heads: int64(cfg.Heads), expansion: cfg.Expansion, seqLen: m.seq, mixer: cfg.Mixer, rope: r, eps: 1e-5, dtype: m.dtype}
	switch cfg.Core {
	case experiments.CoreTRM:
		m.core = newTRM(p, cfg, s)
	case experiments.CoreHRM:
		m.core = newHRM(p, cfg, s)
	case experiments.CoreTransformer:
		m.core = newTransformer(p, cfg, s)
	case experiments.CoreUT:
		m.core = newUT(p, cfg, s, m.seq)
	default:
		return nil, experiments.UnknownValue("model.core", cfg.Core)
	}
	m.lmHead = newLinear(p, "lm_head", d, int64(shape.Vocab), false)
	// Halting head: zero weights and bias −5, so Q starts near 0 (HRM q_head).
	m.qHead = linear{
		w: p.param("q_head.weight", ts.MustZeros([]int64{2, d}, gotch.Float, device)),
		b: p.param("q_head.bias", ts.MustFull([]int64{2}, ts.FloatScalar(-5), gotch.Float, device)),
	}
	return m, nil
}

// SeqLen is the number of positions the core sees (tokens + puzzle prefix).
func (m *Model) SeqLen() int64 { return m.seq }

// Carry is the state a sample keeps across segments.
type Carry struct {
	States []*ts.Tensor // each (B, L', D)
}

// InitCarry returns the reset carry for a batch.
func (m *Model) InitCarry(batch int64) *Carry {
	c := &Carry{}
	for _, s := range m.core.initStates() {
		c.States = append(c.States, s.MustExpand([]int64{batch, m.seq, m.hidden}, false, false).MustTotype(m.dtype, true).MustContiguous(true))
	}
	return c
}

// Reset returns a carry whose samples with reset[b] = true are back at the
// initial state; the others keep theirs.
func (m *Model) Reset(c *Carry, reset *ts.Tensor) *Carry {
	mask := reset.MustView([]int64{-1, 1, 1}, false) // (B, 1, 1)
	out := &Carry{}
	for i, s := range m.core.initStates() {
		out.States = append(out.States, s.MustWhereSelf(mask, c.States[i], false).MustTotype(m.dtype, true))
	}
	mask.MustDrop()
	return out
}

// Detach returns the carry cut from the autograd graph: gradients never
// cross a segment boundary.
func (c *Carry) Detach() *Carry {
	out := &Carry{}
	for _, s := range c.States {
		out.States = append(out.States, s.MustDetach(false))
	}
	return out
}

// Drop frees the carry's tensors.
func (c *Carry) Drop() {
	for _, s := range c.States {
		s.MustDrop()
	}
	c.States = nil
}

// Output is what one segment predicts.
type Output struct {
	Logits    *ts.Tensor // (B, L, V)
	QHalt     *ts.Tensor // (B)
	QContinue *ts.Tensor // (B)
	Ponder    *ts.Tensor // UT ACT ponder cost (scalar), nil otherwise
}

// Drop frees the output's tensors.
func (o *Output) Drop() {
	for _, t := range []*ts.Tensor{o.Logits, o.QHalt, o.QContinue, o.Ponder} {
		if t != nil {
			t.MustDrop()
		}
	}
}

// Segment runs one deep-supervision segment on tokens (B, L) int64, with
// puzzle the batch's puzzle-embedding rows (B, D) or nil. The returned carry
// is still attached to the graph; the trainer detaches it.
func (m *Model) Segment(c *Carry, tokens, puzzle *ts.Tensor, grad experiments.Gradient) (*Carry, *Output) {
	x := m.embedInput(tokens, puzzle) // (B, L', D)
	states, ponder := m.core.refine(m, c.States, x, grad)
	x.MustDrop()
	out := m.heads(states[m.core.answer()])
	out.Ponder = ponder
	return &Carry{States: states}, out
}

// embedInput is x = √D · [puzzle prefix; tokens] (+ learned positions).
func (m *Model) embedInput(tokens, puzzle *ts.Tensor) *ts.Tensor {
	x := ts.MustEmbedding(m.embed, tokens, -1, false, false) // (B, L, D)
	if m.prefix > 0 {
		b := x.MustSize()[0]
		var rows *ts.Tensor
		if puzzle != nil {
			rows = puzzle.MustView([]int64{b, 1, m.hidden}, false)
		} else {
			rows = ts.MustZeros([]int64{b, 1, m.hidden}, x.DType(), m.Params.device)
		}
		parts := []*ts.Tensor{rows}
		if m.prefix > 1 { // TRM pads the prefix to puzzle_emb_len positions
			pad := ts.MustZeros([]int64{b, m.prefix - 1, m.hidden}, x.DType(), m.Params.device)
			parts = append(parts, pad)
		}
		parts = append(parts, x)
		y := ts.MustCat(parts, 1) // (B, L', D)
		for _, t := range parts {
			t.MustDrop()
		}
		x = y
	}
	if m.pos != nil { // (tok + pos)/√2 keeps the variance (HRM)
		x = x.MustAdd(m.pos, true).MustMulScalar(m.halfSqrt2, true)
	}
	x = x.MustMulScalar(m.embedScale, true)
	if m.dtype != x.DType() { // embeddings add up in float32, then compute in bf16
		x = x.MustTotype(m.dtype, true)
	}
	return x
}

// heads reads the answer state: token logits after the prefix, and the two
// halting logits from position 0.
func (m *Model) heads(a *ts.Tensor) *Output {
	body := a.MustNarrow(1, m.prefix, m.seq-m.prefix, false)
	logits := m.lmHead.forward(body)
	body.MustDrop()
	first := a.MustSelect(1, 0, false) // (B, D)
	q := m.qHead.forward(first)        // (B, 2)
	first.MustDrop()
	if q.DType() != gotch.Float { // halting logits and their BCE in float32 (HRM)
		q = q.MustTotype(gotch.Float, true)
	}
	out := &Output{
		Logits:    logits,
		QHalt:     q.MustSelect(1, 0, false),
		QContinue: q.MustSelect(1, 1, false),
	}
	q.MustDrop()
	return out
}

// Count is the number of trainable parameters (the puzzle-embedding table
// is a buffer in the papers and is not counted).
func (m *Model) Count() int64 { return m.Params.Count() }

// SegmentFLOPs estimates the floating-point operations one segment costs for
// one sample: forward FLOPs of every network call and the heads, and, when
// training, twice that again for the backward of the differentiated calls.
func (m *Model) SegmentFLOPs(grad experiments.Gradient, training bool) float64 {
	total, diff := m.core.calls(grad)
	call := m.core.callFLOPs(m)
	heads := 2 * float64(m.hidden) * (float64(m.Shape.SeqLen)*float64(m.Shape.Vocab) + 2)
	fwd := float64(total)*call + heads
	if !training {
		return fwd
	}
	return fwd + 2*(float64(diff)*call+heads)
}

// blockFLOPs is the forward FLOPs of one block for one sample of L positions.
func blockFLOPs(s blockShape) float64 {
	l, d := float64(s.seqLen), float64(s.hidden)
	w := float64(swiGLUWidth(s.hidden, s.expansion))
	f := 2*l*d*2*w + 2*l*w*d // channel SwiGLU
	if s.mixer == experiments.MixerMLP {
		wt := float64(swiGLUWidth(s.seqLen, s.expansion))
		return f + 2*d*l*2*wt + 2*d*wt*l
	}
	hd := float64(s.hidden / s.heads)
	hh := float64(s.heads) * hd
	return f + 2*l*d*3*hh + 2*2*l*l*hh + 2*l*hh*d
}

// runCalls runs a segment's network calls in order, the leading ones without
// gradient: the gradient-mode cut shared by every core.
type runCalls struct {
	m         *Model
	total     int
	noGrad    int
	done      int
	traceName string
}

func (r *runCalls) do(name string, fn func() *ts.Tensor) *ts.Tensor {
	var out *ts.Tensor
	if r.done < r.noGrad {
		NoGrad(func() { out = fn() })
	} else {
		out = fn()
	}
	r.done++
	if r.m.trace != nil {
		r.m.trace(name, out.MustRequiresGrad())
	}
	return out
}

// keep replaces *dst by next, freeing the previous value unless it is one of
// the caller's tensors.
func keep(dst **ts.Tensor, next *ts.Tensor, owned map[*ts.Tensor]bool) {
	if !owned[*dst] {
		(*dst).MustDrop()
	}
	*dst = next
}

func callerOwned(states []*ts.Tensor) map[*ts.Tensor]bool {
	m := map[*ts.Tensor]bool{}
	for _, s := range states {
		m[s] = true
	}
	return m
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
