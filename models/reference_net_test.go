package models

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"outerloop/experiments"
)

// An independent float64 reference of one deep-supervision segment of the
// trm and hrm cores, written from the papers (docs/models.md summarises what
// they specify) with no gotch in it. Only the weights are shared, copied out of
// the gotch model by name. Model.Segment is checked against it for the
// forward outputs and, by central finite differences, for the gradients in
// every gradient mode.

// refWeights holds tensors by their Params names, flattened row-major;
// "puzzle" holds the batch's puzzle-embedding rows (B, D).
type refWeights map[string][]float64

// refEntry is one scalar of a weight tensor.
type refEntry struct {
	name  string
	index int
}

// with returns w with entry e moved by delta; other tensors are shared.
func (w refWeights) with(e refEntry, delta float64) refWeights {
	out := maps.Clone(w)
	out[e.name] = slices.Clone(w[e.name])
	out[e.name][e.index] += delta
	return out
}

// seq64 is one sample's hidden states, (L', D).
type seq64 [][]float64

// refNet is the shape of the reference model.
type refNet struct {
	core          experiments.Core // trm or hrm
	d, heads      int
	prefix        int            // puzzle-prefix positions before the tokens
	cycles, inner int            // TRM's T and n; HRM's h_cycles and l_cycles
	layers        map[string]int // blocks per network: TRM "f"; HRM "H", "L"
	mixer         experiments.Mixer
	pos           experiments.Pos
}

func matVec(w, x []float64) []float64 { // W x for W (len(w)/len(x), len(x))
	y := make([]float64, len(w)/len(x))
	for i := range y {
		row, s := w[i*len(x):(i+1)*len(x)], 0.0
		for j, xj := range x {
			s += row[j] * xj
		}
		y[i] = s
	}
	return y
}

func addVec(vs ...[]float64) []float64 {
	out := make([]float64, len(vs[0]))
	for _, v := range vs {
		for i := range v {
			out[i] += v[i]
		}
	}
	return out
}

func scaleVec(a []float64, s float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] * s
	}
	return out
}

// refRMSNorm is x/√(mean(x²) + ε), ε = 1e-5, with no learned scale (HRM
// layers.py rms_norm).
func refRMSNorm(x []float64) []float64 {
	ms := 0.0
	for _, v := range x {
		ms += v * v / float64(len(x))
	}
	return scaleVec(x, 1/math.Sqrt(ms+1e-5))
}

// refSwiGLU is down(silu(gate x) ⊙ up x); gate and up are rows [0, w) and
// [w, 2w) of the fused gate_up matrix.
func refSwiGLU(w refWeights, name string, x []float64) []float64 {
	gu := matVec(w[name+".gate_up.weight"], x)
	width := len(gu) / 2
	h := make([]float64, width)
	for i := range h {
		h[i] = gu[i] / (1 + math.Exp(-gu[i])) * gu[width+i]
	}
	return matVec(w[name+".down.weight"], h)
}

// refRoPE rotates each channel pair (i, i + hd/2) of one head at position
// pos by the angle pos·θ^(−2i/hd), θ = 10000: RoPE in the rotate_half form.
func refRoPE(x []float64, pos int) []float64 {
	hd, half := len(x), len(x)/2
	out := make([]float64, hd)
	for i := 0; i < half; i++ {
		a := float64(pos) * math.Pow(10000, -float64(2*i)/float64(hd))
		c, s := math.Cos(a), math.Sin(a)
		out[i] = x[i]*c - x[i+half]*s
		out[i+half] = x[i+half]*c + x[i]*s
	}
	return out
}

func refSoftmax(x []float64) []float64 {
	m, sum := slices.Max(x), 0.0
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	return scaleVec(out, 1/sum)
}

// attention is bidirectional multi-head softmax attention. The qkv matrix's
// rows are (3, H, hd): all query heads, then all key heads, then values.
func (r refNet) attention(w refWeights, name string, h seq64) seq64 {
	hd, hh := r.d/r.heads, r.heads*(r.d/r.heads)
	q, k, v := make(seq64, len(h)), make(seq64, len(h)), make(seq64, len(h))
	for p := range h {
		qkv := matVec(w[name+".qkv.weight"], h[p])
		q[p], k[p], v[p] = qkv[:hh], qkv[hh:2*hh], qkv[2*hh:]
		for lo := 0; r.pos == experiments.PosRoPE && lo < hh; lo += hd { // each head
			copy(q[p][lo:lo+hd], refRoPE(q[p][lo:lo+hd], p))
			copy(k[p][lo:lo+hd], refRoPE(k[p][lo:lo+hd], p))
		}
	}
	out := make(seq64, len(h))
	for p := range h {
		o := make([]float64, hh)
		for lo := 0; lo < hh; lo += hd { // one head: channels [lo, lo+hd)
			scores := make([]float64, len(h))
			for j := range h {
				for c := lo; c < lo+hd; c++ {
					scores[j] += q[p][c] * k[j][c] / math.Sqrt(float64(hd))
				}
			}
			for j, pj := range refSoftmax(scores) {
				for c := lo; c < lo+hd; c++ {
					o[c] += pj * v[j][c]
				}
			}
		}
		out[p] = matVec(w[name+".o.weight"], o)
	}
	return out
}

// refTranspose swaps positions and channels.
func refTranspose(h seq64) seq64 {
	out := make(seq64, len(h[0]))
	for c := range out {
		for p := range h {
			out[c] = append(out[c], h[p][c])
		}
	}
	return out
}

// block is post-norm: h = norm(h + mix(h)); h = norm(h + swiglu(h)).
func (r refNet) block(w refWeights, name string, h seq64) seq64 {
	mixed := make(seq64, len(h))
	if r.mixer == experiments.MixerMLP {
		// TRM's mlp_t: per channel, a SwiGLU across positions and a post-norm
		// over positions (trm.py transposes to (B, D, L) around both).
		cols := refTranspose(h)
		for c, col := range cols {
			cols[c] = refRMSNorm(addVec(col, refSwiGLU(w, name+".mlp_t", col)))
		}
		mixed = refTranspose(cols)
	} else {
		a := r.attention(w, name+".attn", h)
		for p := range h {
			mixed[p] = refRMSNorm(addVec(h[p], a[p]))
		}
	}
	out := make(seq64, len(h))
	for p, x := range mixed {
		out[p] = refRMSNorm(addVec(x, refSwiGLU(w, name+".mlp", x)))
	}
	return out
}

// net is one network call, f(Σ inputs): its blocks applied to the state
// plus the injected inputs (the papers' "input injection").
func (r refNet) net(w refWeights, stack string, inputs ...seq64) seq64 {
	h := inputs[0]
	for _, in := range inputs[1:] {
		sum := make(seq64, len(h))
		for p := range h {
			sum[p] = addVec(h[p], in[p])
		}
		h = sum
	}
	for l := 0; l < r.layers[stack]; l++ {
		h = r.block(w, fmt.Sprintf("%s.%d", stack, l), h)
	}
	return h
}

// embed is √D·[puzzle row; zero rows; token embeddings], with learned
// positions mixed in as (e + pos)/√2 before the scale (HRM/TRM
// _input_embeddings).
func (r refNet) embed(w refWeights, b int, tokens []int64) seq64 {
	var x seq64
	if r.prefix > 0 {
		x = append(x, w["puzzle"][b*r.d:(b+1)*r.d])
		for i := 1; i < r.prefix; i++ {
			x = append(x, make([]float64, r.d))
		}
	}
	for _, tok := range tokens {
		x = append(x, w["embed_tokens"][int(tok)*r.d:(int(tok)+1)*r.d])
	}
	for p, e := range x {
		if r.pos == experiments.PosLearned {
			e = scaleVec(addVec(e, w["embed_pos"][p*r.d:(p+1)*r.d]), 1/math.Sqrt2)
		}
		x[p] = scaleVec(e, math.Sqrt(float64(r.d)))
	}
	return x
}

// calls is the number of network calls in one segment.
func (r refNet) calls() int { return r.cycles * (r.inner + 1) }

// differentiated is how many trailing calls of a segment the gradient mode
// back-propagates through: all, the last cycle (TRM §4), or the last latent
// and answer updates (HRM's one-step gradient).
func (r refNet) differentiated(grad experiments.Gradient) int {
	switch grad {
	case experiments.GradientFull:
		return r.calls()
	case experiments.GradientLastCycle:
		return r.inner + 1
	}
	return 2
}

// run applies calls [from, to) of a segment to sample b's states (answer,
// latent). Each cycle updates the latent inner times from the answer and x,
// then the answer once from the latent alone:
//
//	TRM Fig. 3: z ← f(z + y + x) n times, then y ← f(y + z); T cycles.
//	HRM §2:     z_L ← L(z_L + z_H + x) l times, then z_H ← H(z_H + z_L).
func (r refNet) run(w refWeights, b int, states [2]seq64, from, to int) [2]seq64 {
	latentNet, answerNet := "f", "f"
	if r.core == experiments.CoreHRM {
		latentNet, answerNet = "L", "H"
	}
	x := r.embed(w, b, refTokens[b])
	answer, latent := states[0], states[1]
	for k := from; k < to; k++ {
		if k%(r.inner+1) < r.inner {
			latent = r.net(w, latentNet, latent, answer, x)
		} else {
			answer = r.net(w, answerNet, answer, latent)
		}
	}
	return [2]seq64{answer, latent}
}

// refSegment is what one sample's segment gives.
type refSegment struct {
	states [2]seq64 // (answer, latent): TRM (y, z), HRM (z_H, z_L)
	logits seq64    // (L, V)
	q      [2]float64
}

// outputs: lm_head on the answer after the prefix, q_head on position 0.
func (r refNet) outputs(w refWeights, states [2]seq64) refSegment {
	out := refSegment{states: states}
	for _, a := range states[0][r.prefix:] {
		out.logits = append(out.logits, matVec(w["lm_head.weight"], a))
	}
	q := addVec(matVec(w["q_head.weight"], states[0][0]), w["q_head.bias"])
	out.q = [2]float64{q[0], q[1]}
	return out
}

// refSoftmaxCE is −log softmax(x)[label].
func refSoftmaxCE(x []float64, label int) float64 { return -math.Log(refSoftmax(x)[label]) }

// refStablemaxCE is the mean over tokens of −log(s(x_label)/Σ s(x)), with
// s(x) = x + 1 for x ≥ 0 and 1/(1 − x) below (Prieto et al. 2025; HRM
// losses.py).
func refStablemaxCE(logits seq64, labels []int) float64 {
	s := func(v float64) float64 {
		if v >= 0 {
			return v + 1
		}
		return 1 / (1 - v)
	}
	loss := 0.0
	for t, x := range logits {
		sum := 0.0
		for _, v := range x {
			sum += s(v)
		}
		loss -= math.Log(s(x[labels[t]])/sum) / float64(len(logits))
	}
	return loss
}

func TestReferenceLosses(t *testing.T) {
	tests := []struct {
		logits             []float64
		label              int
		stablemax, softmax float64
	}{
		{[]float64{0, 0}, 0, math.Log(2), math.Log(2)},
		{[]float64{1, -1, 0}, 0, math.Log(3.5 / 2), math.Log(math.E+1/math.E+1) - 1}, // s = (2, ½, 1)
		{[]float64{-3, 1}, 0, math.Log(9), math.Log(1 + math.Exp(4))},                // s = (¼, 2)
		{[]float64{2, 2, 2, 2}, 3, math.Log(4), math.Log(4)},
	}
	var logits seq64
	var labels []int
	mean := 0.0
	for _, tt := range tests {
		if got := refStablemaxCE(seq64{tt.logits}, []int{tt.label}); math.Abs(got-tt.stablemax) > 1e-12 {
			t.Fatalf("stablemax CE(%v, %d) = %v, want %v", tt.logits, tt.label, got, tt.stablemax)
		}
		if got := refSoftmaxCE(tt.logits, tt.label); math.Abs(got-tt.softmax) > 1e-12 {
			t.Fatalf("softmax CE(%v, %d) = %v, want %v", tt.logits, tt.label, got, tt.softmax)
		}
		logits, labels = append(logits, tt.logits), append(labels, tt.label)
		mean += tt.stablemax / float64(len(tests))
	}
	if got := refStablemaxCE(logits, labels); math.Abs(got-mean) > 1e-12 {
		t.Fatalf("stablemax CE over %d tokens = %v, want their mean %v", len(tests), got, mean)
	}
}
