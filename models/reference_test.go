package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// An independent float64 reference of one deep-supervision segment of the
// trm and hrm cores, written from the papers (reference-models.md §1.2–1.3,
// §2.1–2.2) with no gotch in it. Only the weights are shared, copied out of
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
	out := make(refWeights, len(w))
	for k, v := range w {
		out[k] = v
	}
	v := append([]float64(nil), w[e.name]...)
	v[e.index] += delta
	out[e.name] = v
	return out
}

// seq64 is one sample's hidden states, (L', D).
type seq64 [][]float64

// refNet is the shape of the reference model.
type refNet struct {
	core          string // "trm" or "hrm"
	d, heads      int
	prefix        int            // puzzle-prefix positions before the tokens
	cycles, inner int            // TRM's T and n; HRM's h_cycles and l_cycles
	layers        map[string]int // blocks per network: TRM "f"; HRM "H", "L"
	mixer, pos    string
}

func matVec(w, x []float64) []float64 { // W x for W (len(w)/len(x), len(x))
	y := make([]float64, len(w)/len(x))
	for i := range y {
		row, s := w[i*len(x):(i+1)*len(x)], 0.0
		for j, wij := range row {
			s += wij * x[j]
		}
		y[i] = s
	}
	return y
}

func addVec(a, b []float64) []float64 {
	out := make([]float64, len(a))
	for i := range a {
		out[i] = a[i] + b[i]
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

func addSeq(a, b seq64) seq64 {
	out := make(seq64, len(a))
	for p := range a {
		out[p] = addVec(a[p], b[p])
	}
	return out
}

// refRMSNorm is x/√(mean(x²) + ε), ε = 1e-5, with no learned scale (HRM
// layers.py rms_norm).
func refRMSNorm(x []float64) []float64 {
	ms := 0.0
	for _, v := range x {
		ms += v * v
	}
	return scaleVec(x, 1/math.Sqrt(ms/float64(len(x))+1e-5))
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

// refRoPE rotates each channel pair (i, i + hd/2) of one head at position pos
// by the angle pos·θ^(−2i/hd), θ = 10000: the rotate_half form of RoPE.
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
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	out, sum := make([]float64, len(x)), 0.0
	for i, v := range x {
		out[i] = math.Exp(v - m)
		sum += out[i]
	}
	return scaleVec(out, 1/sum)
}

// attention is bidirectional multi-head softmax attention. The qkv matrix's
// rows are (3, H, hd): all query heads, then all key heads, then values.
func (r refNet) attention(w refWeights, name string, h seq64) seq64 {
	hd := r.d / r.heads
	q, k, v := make(seq64, len(h)), make(seq64, len(h)), make(seq64, len(h))
	for p := range h {
		qkv := matVec(w[name+".qkv.weight"], h[p])
		q[p], k[p], v[p] = qkv[:r.heads*hd], qkv[r.heads*hd:2*r.heads*hd], qkv[2*r.heads*hd:]
		if r.pos == "rope" {
			var rq, rk []float64
			for head := 0; head < r.heads; head++ {
				rq = append(rq, refRoPE(q[p][head*hd:(head+1)*hd], p)...)
				rk = append(rk, refRoPE(k[p][head*hd:(head+1)*hd], p)...)
			}
			q[p], k[p] = rq, rk
		}
	}
	out := make(seq64, len(h))
	for p := range h {
		o := make([]float64, r.heads*hd)
		for head := 0; head < r.heads; head++ {
			lo, hi := head*hd, (head+1)*hd
			scores := make([]float64, len(h))
			for j := range h {
				for c := lo; c < hi; c++ {
					scores[j] += q[p][c] * k[j][c] / math.Sqrt(float64(hd))
				}
			}
			for j, pj := range refSoftmax(scores) {
				for c := lo; c < hi; c++ {
					o[c] += pj * v[j][c]
				}
			}
		}
		out[p] = matVec(w[name+".o.weight"], o)
	}
	return out
}

// refTokenMix is TRM's mlp_t: per channel, a SwiGLU across positions and a
// post-norm over positions (trm.py transposes to (B, D, L) around both).
func refTokenMix(w refWeights, name string, h seq64) seq64 {
	out := make(seq64, len(h))
	for p := range out {
		out[p] = make([]float64, len(h[p]))
	}
	for c := range h[0] {
		col := make([]float64, len(h))
		for p := range h {
			col[p] = h[p][c]
		}
		col = refRMSNorm(addVec(col, refSwiGLU(w, name, col)))
		for p := range h {
			out[p][c] = col[p]
		}
	}
	return out
}

// block is post-norm: h = norm(h + mix(h)); h = norm(h + swiglu(h)).
func (r refNet) block(w refWeights, name string, h seq64) seq64 {
	if r.mixer == "mlp" {
		h = refTokenMix(w, name+".mlp_t", h)
	} else {
		a := r.attention(w, name+".attn", h)
		for p := range h {
			h[p] = refRMSNorm(addVec(h[p], a[p]))
		}
	}
	out := make(seq64, len(h))
	for p, x := range h {
		out[p] = refRMSNorm(addVec(x, refSwiGLU(w, name+".mlp", x)))
	}
	return out
}

// net is a reasoning module: its blocks applied to state + injection.
func (r refNet) net(w refWeights, stack string, state, injection seq64) seq64 {
	h := addSeq(state, injection)
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
		if r.pos == "learned" {
			e = scaleVec(addVec(e, w["embed_pos"][p*r.d:(p+1)*r.d]), 1/math.Sqrt2)
		}
		x[p] = scaleVec(e, math.Sqrt(float64(r.d)))
	}
	return x
}

// differentiated is how many trailing network calls of a segment the
// gradient mode back-propagates through: all of them, the last cycle
// (TRM §4), or the last latent and answer updates (HRM's one-step gradient).
func (r refNet) differentiated(grad string) int {
	switch grad {
	case Full:
		return r.cycles * (r.inner + 1)
	case LastCycle:
		return r.inner + 1
	}
	return 2
}

// refSegment is what one sample's segment gives.
type refSegment struct {
	states [2]seq64 // (answer, latent): TRM (y, z), HRM (z_H, z_L)
	logits seq64    // (L, V)
	q      [2]float64
}

// segment runs one segment of sample b from states (answer, latent). The
// calls before the differentiated tail use the weights frozen, so that their
// outputs are constants when w is perturbed; the rest, and the heads, use w.
// With frozen = w it is the plain forward pass.
func (r refNet) segment(frozen, w refWeights, b int, tokens []int64, states [2]seq64, grad string) refSegment {
	xFrozen, x := r.embed(frozen, b, tokens), r.embed(w, b, tokens)
	cut, call := r.cycles*(r.inner+1)-r.differentiated(grad), 0
	next := func() (refWeights, seq64) { // the weights and input of the next call
		call++
		if call <= cut {
			return frozen, xFrozen
		}
		return w, x
	}
	if r.core == "hrm" {
		// HRM §2: z_L ← L(z_L + z_H + x) l times, then z_H ← H(z_H + z_L).
		zH, zL := states[0], states[1]
		for h := 0; h < r.cycles; h++ {
			for l := 0; l < r.inner; l++ {
				wl, xl := next()
				zL = r.net(wl, "L", zL, addSeq(zH, xl))
			}
			wh, _ := next()
			zH = r.net(wh, "H", zH, zL)
		}
		return r.outputs(w, zH, zL)
	}
	// TRM Fig. 3: z ← f(z + y + x) n times, then y ← f(y + z); T cycles.
	y, z := states[0], states[1]
	for t := 0; t < r.cycles; t++ {
		for i := 0; i < r.inner; i++ {
			wz, xz := next()
			z = r.net(wz, "f", z, addSeq(y, xz))
		}
		wy, _ := next()
		y = r.net(wy, "f", y, z)
	}
	return r.outputs(w, y, z)
}

// outputs: lm_head on the answer after the prefix, q_head on position 0.
func (r refNet) outputs(w refWeights, answer, latent seq64) refSegment {
	out := refSegment{states: [2]seq64{answer, latent}}
	for _, a := range answer[r.prefix:] {
		out.logits = append(out.logits, matVec(w["lm_head.weight"], a))
	}
	q := addVec(matVec(w["q_head.weight"], answer[0]), w["q_head.bias"])
	out.q = [2]float64{q[0], q[1]}
	return out
}

// refSoftmaxCE is −log refSoftmax(x)[label].
func refSoftmaxCE(x []float64, label int) float64 { return -math.Log(refSoftmax(x)[label]) }

// refStablemaxCE is −log(s(x_label)/Σ s(x)) with s(x) = x + 1 for x ≥ 0 and
// 1/(1 − x) below (Prieto et al. 2025; HRM losses.py).
func refStablemaxCE(x []float64, label int) float64 {
	s := func(v float64) float64 {
		if v >= 0 {
			return v + 1
		}
		return 1 / (1 - v)
	}
	sum := 0.0
	for _, v := range x {
		sum += s(v)
	}
	return -math.Log(s(x[label]) / sum)
}

// meanLoss averages a per-token loss over the tokens.
func meanLoss(ce func([]float64, int) float64, logits seq64, labels []int) float64 {
	sum := 0.0
	for i, l := range logits {
		sum += ce(l, labels[i])
	}
	return sum / float64(len(logits))
}

func TestReferenceLosses(t *testing.T) {
	tests := []struct {
		logits            []float64
		label             int
		stablemax, softmx float64
	}{
		{[]float64{0, 0}, 0, math.Log(2), math.Log(2)},
		{[]float64{1, -1, 0}, 0, math.Log(3.5 / 2), math.Log(math.E+1/math.E+1) - 1}, // s = (2, ½, 1)
		{[]float64{-3, 1}, 0, math.Log(9), math.Log(1 + math.Exp(4))},                // s = (¼, 2)
		{[]float64{2, 2, 2, 2}, 3, math.Log(4), math.Log(4)},
	}
	var logits seq64
	var labels []int
	wantMean := 0.0
	for _, tt := range tests {
		if got := refStablemaxCE(tt.logits, tt.label); math.Abs(got-tt.stablemax) > 1e-12 {
			t.Fatalf("refStablemaxCE(%v, %d) = %v, want %v", tt.logits, tt.label, got, tt.stablemax)
		}
		if got := refSoftmaxCE(tt.logits, tt.label); math.Abs(got-tt.softmx) > 1e-12 {
			t.Fatalf("refSoftmaxCE(%v, %d) = %v, want %v", tt.logits, tt.label, got, tt.softmx)
		}
		logits, labels = append(logits, tt.logits), append(labels, tt.label)
		wantMean += tt.stablemax / float64(len(tests))
	}
	if got := meanLoss(refStablemaxCE, logits, labels); math.Abs(got-wantMean) > 1e-12 {
		t.Fatalf("mean stablemax loss = %v, want %v", got, wantMean)
	}
}

// The test batch: two samples of four tokens over a vocabulary of five.
var (
	refShape  = Shape{Vocab: 5, SeqLen: 4, PuzzleIDs: 1}
	refTokens = [][]int64{{0, 2, 4, 1}, {3, 4, 2, 0}}
	refLabels = [][]int{{1, 3, 0, 2}, {4, 1, 1, 3}}
	refQLoss  = [2]float64{0.3, -0.7} // the loss weights of (q_halt, q_continue)
)

type refCase struct {
	name string
	cfg  func(*experiments.ModelConfig)
}

var refCases = []refCase{
	{"trm attention rope", func(c *experiments.ModelConfig) {}},
	{"hrm attention rope", func(c *experiments.ModelConfig) { c.Core = "hrm" }},
	{"trm mlp-mixer no-pos", func(c *experiments.ModelConfig) { c.Mixer, c.Pos = "mlp", "none" }},
	{"hrm learned prefix-2", func(c *experiments.ModelConfig) { c.Core, c.Pos, c.PuzzleEmbLen = "hrm", "learned", 2 }},
	{"trm 2-layer learned prefix-2", func(c *experiments.ModelConfig) { c.Layers, c.Pos, c.PuzzleEmbLen = 2, "learned", 2 }},
	{"hrm mlp-mixer 2-layer-H prefix-1", func(c *experiments.ModelConfig) {
		c.Core, c.Mixer, c.Pos, c.PuzzleEmbLen, c.HLayers = "hrm", "mlp", "none", 1, 2
	}},
}

// refModel builds the gotch model of a case and the reference beside it:
// its shape, and its weights (with random puzzle rows, and a random halting
// head so that q depends on the answer state).
func refModel(t *testing.T, c refCase) (*Model, refNet, refWeights) {
	t.Helper()
	runtime.LockOSThread() // grad mode is per thread (gotch.md §1.4); t.Run starts a goroutine
	t.Cleanup(runtime.UnlockOSThread)
	cfg := experiments.DefaultModelConfig()
	cfg.Hidden, cfg.Heads, cfg.Expansion, cfg.Mixer, cfg.Pos = 8, 2, 4, "attention", "rope"
	cfg.Layers, cfg.HLayers, cfg.LLayers, cfg.HCycles, cfg.LCycles = 1, 1, 1, 2, 2
	c.cfg(&cfg)
	m := mustNew(t, cfg, refShape)
	if m.Puzzle != nil {
		t.Cleanup(m.Puzzle.Drop)
	}
	rng := rand.New(rand.NewPCG(6, 1))
	randn := func(n int, std float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = std * rng.NormFloat64()
		}
		return v
	}
	named := m.Params.Named()
	refSetValues(named["q_head.weight"], randn(2*cfg.Hidden, 0.5))
	refSetValues(named["q_head.bias"], []float64{0.3, -0.2})
	w := refWeights{"puzzle": randn(len(refTokens)*cfg.Hidden, 1)}
	for name, p := range named {
		if p.DType() == gotch.Float {
			w[name] = p.Float64Values()
		}
	}
	net := refNet{
		core: cfg.Core, d: cfg.Hidden, heads: cfg.Heads, prefix: cfg.PuzzleEmbLen,
		cycles: cfg.HCycles, inner: cfg.LCycles, mixer: cfg.Mixer, pos: cfg.Pos,
		layers: map[string]int{"f": cfg.Layers, "H": cfg.HLayers, "L": cfg.LLayers},
	}
	return m, net, w
}

func refSetValues(dst *ts.Tensor, v []float64) {
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	src := ts.MustOfSlice(f).MustView(dst.MustSize(), true)
	NoGrad(func() { dst.Copy_(src) })
	src.MustDrop()
}

// initStates are the reset (answer, latent) of every sample: the fixed
// initial vectors broadcast to every position.
func (r refNet) initStates(w refWeights) [][2]seq64 {
	names := [2]string{"y_init", "z_init"}
	if r.core == "hrm" {
		names = [2]string{"z_H_init", "z_L_init"}
	}
	out := make([][2]seq64, len(refTokens))
	for b := range out {
		for i, n := range names {
			for p := 0; p < r.prefix+len(refTokens[b]); p++ {
				out[b][i] = append(out[b][i], w[n])
			}
		}
	}
	return out
}

// loss is the test's segment loss over the batch from states start: summed
// softmax cross-entropy plus a fixed linear function of the q logits.
func (r refNet) loss(frozen, w refWeights, start [][2]seq64, grad string) float64 {
	total := 0.0
	for b, tok := range refTokens {
		s := r.segment(frozen, w, b, tok, start[b], grad)
		for i, l := range s.logits {
			total += refSoftmaxCE(l, refLabels[b][i])
		}
		total += refQLoss[0]*s.q[0] + refQLoss[1]*s.q[1]
	}
	return total
}

// gotchRun is what Model.Segment gives for two segments from the reset
// carry, the second from the first's detached carry as the trainer runs
// them, and the gradients of the second segment's loss.
type gotchRun struct {
	first, second []refSegment // per sample; first also holds the carry
	grads         refWeights
}

func runGotch(t *testing.T, m *Model, w refWeights, grad string) gotchRun {
	t.Helper()
	live := LiveTensors()
	b, d := int64(len(refTokens)), int64(m.hidden)
	var flat []int64
	var labels []int64
	for i := range refTokens {
		flat = append(flat, refTokens[i]...)
		for _, l := range refLabels[i] {
			labels = append(labels, int64(l))
		}
	}
	tok := ts.MustOfSlice(flat).MustView([]int64{b, -1}, true)
	lab := ts.MustOfSlice(labels)
	var puzzle *ts.Tensor
	if m.prefix > 0 {
		puzzle = ts.MustOfSlice(w["puzzle"]).MustTotype(gotch.Float, true).MustView([]int64{b, d}, true)
		puzzle.MustRequiresGrad_(true)
	}
	c0 := m.InitCarry(b)
	c1, o1 := m.Segment(c0, tok, puzzle, grad)
	run := gotchRun{first: refReadOutput(o1, c1)}
	carry := c1.Detach()
	c2, o2 := m.Segment(carry, tok, puzzle, grad)
	run.second = refReadOutput(o2, nil)

	v := int64(m.Shape.Vocab)
	ce := o2.Logits.MustReshape([]int64{-1, v}, false).
		MustCrossEntropyLoss(lab, ts.None, ts.ReductionSum, -100, 0, true)
	qh, qc := ts.FloatScalar(refQLoss[0]), ts.FloatScalar(refQLoss[1])
	halt := o2.QHalt.MustSum(gotch.Float, false).MustMulScalar(qh, true)
	cont := o2.QContinue.MustSum(gotch.Float, false).MustMulScalar(qc, true)
	loss := ce.MustAdd(halt, true).MustAdd(cont, true)
	loss.MustBackward()
	run.grads = refWeights{}
	for name, p := range m.Params.Named() {
		if p.MustRequiresGrad() {
			run.grads[name] = p.MustGrad(false).Float64Values(true)
		}
	}
	if puzzle != nil {
		run.grads["puzzle"] = puzzle.MustGrad(false).Float64Values(true)
		puzzle.MustDrop()
	}
	for _, x := range []*ts.Tensor{tok, lab, halt, cont, loss} {
		x.MustDrop()
	}
	qh.MustDrop()
	qc.MustDrop()
	for _, x := range []interface{ Drop() }{c0, o1, c1, carry, o2, c2} {
		x.Drop()
	}
	if got := LiveTensors(); got != live {
		t.Fatalf("live tensors %d → %d over two segments and a backward, want unchanged", live, got)
	}
	return run
}

// refReadOutput copies a segment's outputs (and the carry, when given) to Go.
func refReadOutput(o *Output, c *Carry) []refSegment {
	size := o.Logits.MustSize() // (B, L, V)
	l, v := int(size[1]), int(size[2])
	logits, qh, qc := o.Logits.Float64Values(), o.QHalt.Float64Values(), o.QContinue.Float64Values()
	out := make([]refSegment, size[0])
	for b := range out {
		for i := 0; i < l; i++ {
			out[b].logits = append(out[b].logits, logits[(b*l+i)*v:(b*l+i+1)*v])
		}
		out[b].q = [2]float64{qh[b], qc[b]}
	}
	if c == nil {
		return out
	}
	for i, s := range c.States {
		size := s.MustSize() // (B, L', D)
		vals, lp, d := s.Float64Values(), int(size[1]), int(size[2])
		for b := range out {
			for p := 0; p < lp; p++ {
				out[b].states[i] = append(out[b].states[i], vals[(b*lp+p)*d:(b*lp+p+1)*d])
			}
		}
	}
	return out
}

// maxSeqDiff is the largest |a − b| over two sequences.
func maxSeqDiff(a, b seq64) float64 {
	worst := 0.0
	for p := range a {
		for i := range a[p] {
			worst = math.Max(worst, math.Abs(a[p][i]-b[p][i]))
		}
	}
	return worst
}

func compareSegments(t *testing.T, label string, got, want []refSegment, withStates bool) {
	t.Helper()
	const tol = 1e-4 // float32 against float64
	for b := range want {
		diffs := map[string]float64{
			"logits": maxSeqDiff(got[b].logits, want[b].logits),
			"q":      maxSeqDiff(seq64{got[b].q[:]}, seq64{want[b].q[:]}),
		}
		if withStates {
			diffs["answer state"] = maxSeqDiff(got[b].states[0], want[b].states[0])
			diffs["latent state"] = maxSeqDiff(got[b].states[1], want[b].states[1])
		}
		for what, d := range diffs {
			if d > tol || math.IsNaN(d) {
				t.Errorf("%s, sample %d: %s differ from the reference by %.3g, want ≤ %g", label, b, what, d, tol)
			}
		}
	}
}

func TestReferenceSegment(t *testing.T) {
	for _, c := range refCases {
		for _, grad := range []string{Full, LastCycle, OneStep} {
			t.Run(c.name+"/"+grad, func(t *testing.T) {
				m, net, w := refModel(t, c)
				run := runGotch(t, m, w, grad)
				start := net.initStates(w)
				var first, second []refSegment
				for b, tok := range refTokens {
					first = append(first, net.segment(w, w, b, tok, start[b], grad))
				}
				for b, tok := range refTokens {
					second = append(second, net.segment(w, w, b, tok, first[b].states, grad))
				}
				compareSegments(t, "segment 1", run.first, first, true)
				compareSegments(t, "segment 2", run.second, second, false)
			})
		}
	}
}

// refProbes picks three entries, spread over each tensor, of every
// parameter (and of the puzzle rows): they land in q, k and v of qkv, in
// gate and up of gate_up, and in used token rows.
func refProbes(grads refWeights) []refEntry {
	var out []refEntry
	for name, g := range grads {
		for _, f := range []float64{0.1, 0.45, 0.8} {
			out = append(out, refEntry{name, int(f * float64(len(g)))})
		}
	}
	return out
}

// TestReferenceGradients compares gotch's autograd gradients of the second
// segment's loss with central finite differences of the reference. For a
// truncated mode the finite difference perturbs the weights only in the
// differentiated calls and the heads; the earlier calls keep the original
// weights, as constants, which is what running them without gradient means.
func TestReferenceGradients(t *testing.T) {
	const h = 1e-5
	modes := []string{Full, LastCycle, OneStep}
	for _, c := range refCases {
		t.Run(c.name, func(t *testing.T) {
			runs := map[string]gotchRun{}
			var net refNet
			var w refWeights
			for _, grad := range modes { // a fresh model each, so gradients do not accumulate
				var m *Model
				m, net, w = refModel(t, c)
				runs[grad] = runGotch(t, m, w, grad)
			}
			start := net.initStates(w)
			for b := range start {
				start[b] = net.segment(w, w, b, refTokens[b], start[b], Full).states
			}
			worst := 0.0 // the largest |error|/tolerance
			cut := map[string]bool{} // some entry's truncated gradient differs from the full one
			for _, e := range refProbes(runs[Full].grads) {
				up, down := w.with(e, h), w.with(e, -h)
				full := (net.loss(up, up, start, Full) - net.loss(down, down, start, Full)) / (2 * h)
				for _, grad := range modes {
					want := full
					if grad != Full {
						want = (net.loss(w, up, start, grad) - net.loss(w, down, start, grad)) / (2 * h)
					}
					got, tol := runs[grad].grads[e.name][e.index], 1e-3*math.Abs(want)+1e-5
					worst = math.Max(worst, math.Abs(got-want)/tol)
					if math.Abs(got-want) > tol || math.IsNaN(got) {
						t.Errorf("%s: d loss/d %s[%d] = %.6g, reference %.6g (full BPTT %.6g), want within %.2g",
							grad, e.name, e.index, got, want, full, tol)
					}
					cut[grad] = cut[grad] || math.Abs(full-want) > 10*tol
				}
			}
			t.Logf("%d probed entries; largest gradient error %.2g of the tolerance", 3*len(runs[Full].grads), worst)
			for _, grad := range modes[1:] {
				if !cut[grad] {
					t.Errorf("%s: no probed gradient differs from full BPTT, so a missing cut would go unseen", grad)
				}
			}
		})
	}
}

// TestReferenceResetKeepsInitStates: Reset puts reset samples back at the
// initial states and keeps the others, without consuming the model's
// initial-state buffers, which every later Reset needs again.
func TestReferenceResetKeepsInitStates(t *testing.T) {
	m, net, w := refModel(t, refCases[0])
	b := int64(len(refTokens))
	tok := ts.MustOfSlice(append(append([]int64(nil), refTokens[0]...), refTokens[1]...)).MustView([]int64{b, -1}, true)
	c0 := m.InitCarry(b)
	c1, o1 := m.Segment(c0, tok, nil, Full)
	carry := c1.Detach()
	kept := refReadOutput(o1, carry)
	mask := ts.MustOfSlice([]bool{true, false})
	live := LiveTensors()
	reset := m.Reset(carry, mask)
	if got, want := LiveTensors()-live, len(reset.States); got != want {
		t.Errorf("Reset changed the live tensors by %+d, want %+d (its new states): it freed tensors it does not own", got, want)
	}
	got := refReadOutput(o1, reset)
	init := net.initStates(w)
	for i := range init[0] {
		if d := maxSeqDiff(got[0].states[i], init[0][i]); d > 1e-6 {
			t.Errorf("reset sample, state %d: differs from the initial state by %g", i, d)
		}
		if d := maxSeqDiff(got[1].states[i], kept[1].states[i]); d > 0 {
			t.Errorf("kept sample, state %d: differs from its carry by %g", i, d)
		}
	}
	for _, x := range []interface{ Drop() }{c0, o1, c1, carry, reset} {
		x.Drop()
	}
	tok.MustDrop()
	mask.MustDrop()
}
