package models

import (
	"fmt"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/kernels"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// Layers shared by every core, following HRM/TRM models/layers.py: bias-free
// linears with truncated LeCun-normal init, RMSNorm without a learned scale,
// SwiGLU, bidirectional attention with RoPE, post-norm blocks, and TRM's
// token-mixing MLP. Every forward returns a new tensor, frees its own
// temporaries and never frees its input.
//
// Precision: layers compute in their input's dtype. Parameters stay
// float32; under bf16 a linear casts its weights to bfloat16 for the
// matmul (HRM's CastedLinear does the same), so gradients and optimiser
// state stay float32, and RMSNorm computes in float32 and casts back.

// linear is y = x Wᵀ (+ b). W is (out, in).
type linear struct {
	w, b *ts.Tensor
}

func newLinear(p *Params, name string, in, out int64, bias bool) linear {
	l := linear{w: p.param(name+".weight", p.truncNormal([]int64{out, in}, 1/math.Sqrt(float64(in))))}
	if bias {
		l.b = p.param(name+".bias", ts.MustZeros([]int64{out}, gotch.Float, p.device))
	}
	return l
}

func (l linear) forward(x *ts.Tensor) *ts.Tensor {
	w, b := l.w, ts.None
	if l.b != nil {
		b = l.b
	}
	if dt := x.DType(); dt != w.DType() {
		w = w.MustTotype(dt, false)
		defer w.MustDrop()
		if l.b != nil {
			b = b.MustTotype(dt, false)
			defer b.MustDrop()
		}
	}
	return ts.MustLinear(x, w, b)
}

// rmsNorm normalises the last axis to unit RMS, with no learned scale (HRM
// layers.py rms_norm). It runs as one fused kernel with the residual add
// before it (kernels.AddRMSNorm): six ops forward and as many autograd nodes
// backward became one of each; reduced precision normalises in float32.
type rmsNorm struct {
	eps float64
}

func newRMSNorm(eps float64) rmsNorm { return rmsNorm{eps: eps} }

// addForward is norm(x + r), the post-norm residual.
func (n rmsNorm) addForward(x, r *ts.Tensor) *ts.Tensor { return kernels.AddRMSNorm(x, r, n.eps) }

// swiGLUWidth is the papers' hidden width: round(expansion·d·2/3) rounded up
// to a multiple of 256 (HRM layers.py _find_multiple).
func swiGLUWidth(d int64, expansion float64) int64 {
	w := int64(math.Round(expansion * float64(d) * 2 / 3))
	return (w + 255) / 256 * 256
}

// swiGLU is down(silu(gate(x)) · up(x)) with gate and up fused in one matrix.
type swiGLU struct {
	gateUp, down linear
	width        int64
}

func newSwiGLU(p *Params, name string, d int64, expansion float64) swiGLU {
	w := swiGLUWidth(d, expansion)
	return swiGLU{
		gateUp: newLinear(p, name+".gate_up", d, 2*w, false),
		down:   newLinear(p, name+".down", w, d, false),
		width:  w,
	}
}

func (s swiGLU) forward(x *ts.Tensor) *ts.Tensor {
	gu := s.gateUp.forward(x) // (..., 2w)
	h := kernels.SwiGLU(gu)   // silu(gate)·up in one kernel each way
	gu.MustDrop()
	out := s.down.forward(h)
	h.MustDrop()
	return out
}

// rope holds the rotary tables for positions 0..seq-1 (RoPE, θ = 10000).
type rope struct {
	cos, sin     *ts.Tensor // (L, hd), float32
	cosLo, sinLo *ts.Tensor // the same in the compute dtype under bf16, else nil
}

// tables returns the tables in x's dtype.
func (r *rope) tables(x *ts.Tensor) (cos, sin *ts.Tensor) {
	if r.cosLo != nil && x.DType() == r.cosLo.DType() {
		return r.cosLo, r.sinLo
	}
	return r.cos, r.sin
}

func newRoPE(p *Params, name string, seq, headDim int64, dt gotch.DType) rope {
	half := headDim / 2
	inv := make([]float32, half)
	for i := range inv {
		inv[i] = float32(1 / math.Pow(10000, float64(2*i)/float64(headDim)))
	}
	cos := make([]float32, 0, seq*headDim)
	sin := make([]float32, 0, seq*headDim)
	for pos := int64(0); pos < seq; pos++ {
		for rep := 0; rep < 2; rep++ { // cat(freqs, freqs)
			for _, f := range inv {
				cos = append(cos, float32(math.Cos(float64(pos)*float64(f))))
				sin = append(sin, float32(math.Sin(float64(pos)*float64(f))))
			}
		}
	}
	mk := func(v []float32) *ts.Tensor {
		return p.fromHost(v, []int64{seq, headDim})
	}
	r := rope{
		cos: p.buffer(name+".cos", mk(cos)),
		sin: p.buffer(name+".sin", mk(sin)),
	}
	if dt != gotch.Float { // copies in the compute dtype, so q and k stay in it
		r.cosLo = p.buffer(name+".cos_"+dt.String(), r.cos.MustTotype(dt, false))
		r.sinLo = p.buffer(name+".sin_"+dt.String(), r.sin.MustTotype(dt, false))
	}
	return r
}

// attention is bidirectional multi-head self-attention. headDim is
// hidden/heads rounded down, as in the ARC Prize baseline (512/12 → 42).
type attention struct {
	qkv, out       linear
	heads, headDim int64
	rope           *rope
}

func newAttention(p *Params, name string, d, heads int64, r *rope) attention {
	hd := d / heads
	return attention{
		qkv:     newLinear(p, name+".qkv", d, 3*heads*hd, false),
		out:     newLinear(p, name+".o", heads*hd, d, false),
		heads:   heads,
		headDim: hd,
		rope:    r,
	}
}

// forward splits the fused projection into q, k and v with RoPE applied to
// q and k in one kernel (kernels.QKVRoPE: one pass each way where view,
// permute, three selects and two seven-op rotations were), then attends
// with libtorch's scaled_dot_product_attention and no mask, which lets it
// take its fused kernel.
func (a attention) forward(x *ts.Tensor) *ts.Tensor {
	size := x.MustSize()
	b, l := size[0], size[1]
	var cos, sin *ts.Tensor
	if a.rope != nil {
		cos, sin = a.rope.tables(x)
	}
	qkv := a.qkv.forward(x) // (B, L, 3·H·hd)
	q, k, v := kernels.QKVRoPE(qkv, cos, sin, a.heads)
	qkv.MustDrop()
	o := kernels.Attention(q, k, v) // (B, H, L, hd)
	q.MustDrop()
	k.MustDrop()
	v.MustDrop()
	o = o.MustTranspose(1, 2, true).MustReshape([]int64{b, l, a.heads * a.headDim}, true) // (B, L, H·hd)
	out := a.out.forward(o)
	o.MustDrop()
	return out
}

// mixer is what a block uses to mix information across positions.
type mixer interface {
	forward(x *ts.Tensor) *ts.Tensor
}

// tokenMLP is TRM's MLP-mixer replacement for attention: a SwiGLU across
// the sequence axis, for small fixed grids (TRM trm.py, mlp_t).
type tokenMLP struct {
	mlp  swiGLU
	norm rmsNorm
}

// forward maps (B, L, D) to the normalised (B, L, D) after the residual; it
// carries its own post-norm because the norm runs over the sequence axis.
func (t tokenMLP) forward(x *ts.Tensor) *ts.Tensor {
	xt := x.MustTranspose(1, 2, false) // (B, D, L)
	m := t.mlp.forward(xt)
	h := t.norm.addForward(xt, m)
	xt.MustDrop()
	m.MustDrop()
	return h.MustTranspose(1, 2, true) // (B, L, D)
}

// block is a post-norm transformer block: h = norm(h + mix(h));
// h = norm(h + mlp(h)) (HRM hrm_act_v1.py HierarchicalReasoningModel_ACTV1Block).
type block struct {
	attn  *attention
	token *tokenMLP
	mlp   swiGLU
	norm  rmsNorm
}

func (b *block) forward(x *ts.Tensor) *ts.Tensor {
	var h *ts.Tensor
	if b.token != nil {
		h = b.token.forward(x)
	} else {
		a := b.attn.forward(x)
		h = b.norm.addForward(x, a)
		a.MustDrop()
	}
	m := b.mlp.forward(h)
	out := b.norm.addForward(h, m)
	h.MustDrop()
	m.MustDrop()
	return out
}

// stack is a sequence of blocks: what HRM calls a ReasoningModule and TRM
// the network f.
type stack struct {
	blocks []*block
}

// blockShape is what every block of a stack shares.
type blockShape struct {
	hidden, heads int64
	expansion     float64
	seqLen        int64 // positions including the puzzle prefix
	mixer         experiments.Mixer
	rope          *rope
	eps           float64
	dtype         gotch.DType // of the hidden states
}

func newStack(p *Params, name string, layers int, s blockShape) stack {
	st := stack{}
	for i := 0; i < layers; i++ {
		n := fmt.Sprintf("%s.%d", name, i)
		b := &block{mlp: newSwiGLU(p, n+".mlp", s.hidden, s.expansion), norm: newRMSNorm(s.eps)}
		if s.mixer == experiments.MixerMLP {
			b.token = &tokenMLP{mlp: newSwiGLU(p, n+".mlp_t", s.seqLen, s.expansion), norm: newRMSNorm(s.eps)}
		} else {
			a := newAttention(p, n+".attn", s.hidden, s.heads, s.rope)
			b.attn = &a
		}
		st.blocks = append(st.blocks, b)
	}
	return st
}

// forward runs the blocks on hidden + injection ("input injection",
// HRM ReasoningModule); injection may be nil.
func (s stack) forward(hidden, injection *ts.Tensor) *ts.Tensor {
	h := hidden
	if injection != nil {
		h = hidden.MustAdd(injection, false)
	}
	for i, b := range s.blocks {
		next := b.forward(h)
		if i > 0 || injection != nil {
			h.MustDrop()
		}
		h = next
	}
	if len(s.blocks) == 0 && injection == nil {
		return hidden.MustShallowClone()
	}
	return h
}
