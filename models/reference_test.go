package models

import (
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// The gotch side of the reference check (the reference itself is in
// reference_net_test.go). The test batch: two samples of four tokens over a
// vocabulary of five.
var (
	refShape  = Shape{Vocab: 5, SeqLen: 4, PuzzleIDs: 1}
	refTokens = [][]int64{{0, 2, 4, 1}, {3, 4, 2, 0}}
	refLabels = [][]int64{{1, 3, 0, 2}, {4, 1, 1, 3}}
	refQLoss  = [2]float64{0.3, -0.7} // the loss weights of (q_halt, q_continue)
)

var refCases = []struct {
	name string
	cfg  func(*experiments.ModelConfig)
}{
	{"trm attention rope", func(c *experiments.ModelConfig) {}},
	{"hrm attention rope", func(c *experiments.ModelConfig) { c.Core = "hrm" }},
	{"trm mlp-mixer no-pos", func(c *experiments.ModelConfig) { c.Mixer, c.Pos = "mlp", "none" }},
	{"hrm learned prefix-2", func(c *experiments.ModelConfig) { c.Core, c.Pos, c.PuzzleEmbLen = "hrm", "learned", 2 }},
	{"trm 2-layer learned prefix-2", func(c *experiments.ModelConfig) { c.Layers, c.Pos, c.PuzzleEmbLen = 2, "learned", 2 }},
	{"hrm mlp-mixer 2-layer-H prefix-1", func(c *experiments.ModelConfig) {
		c.Core, c.Mixer, c.Pos, c.PuzzleEmbLen, c.HLayers = "hrm", "mlp", "none", 1, 2
	}},
}

// refModel builds case i's gotch model (hidden 8, 2 heads, T = n = 2) and
// the reference beside it. The puzzle rows and the halting head (zero at
// init) are random, so that q depends on the answer state.
func refModel(t *testing.T, i int) (*Model, refNet, refWeights) {
	t.Helper()
	runtime.LockOSThread() // grad mode is per thread (docs/dependencies.md, "Threads"); t.Run starts a goroutine
	t.Cleanup(runtime.UnlockOSThread)
	threads := Threads() // one libtorch thread: idle OpenMP workers spin and starve the reference
	SetThreads(1)
	t.Cleanup(func() { SetThreads(threads) })
	cfg := experiments.DefaultModelConfig()
	cfg.Hidden, cfg.Heads, cfg.Expansion, cfg.Mixer, cfg.Pos = 8, 2, 4, "attention", "rope"
	cfg.Layers, cfg.HLayers, cfg.LLayers, cfg.HCycles, cfg.LCycles = 1, 1, 1, 2, 2
	refCases[i].cfg(&cfg)
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
	return m, refNet{
		core: cfg.Core, d: cfg.Hidden, heads: cfg.Heads, prefix: cfg.PuzzleEmbLen,
		cycles: cfg.HCycles, inner: cfg.LCycles, mixer: cfg.Mixer, pos: cfg.Pos,
		layers: map[string]int{"f": cfg.Layers, "H": cfg.HLayers, "L": cfg.LLayers},
	}, w
}

func refSetValues(dst *ts.Tensor, v []float64) {
	src := ts.MustOfSlice(v).MustTotype(gotch.Float, true).MustView(dst.MustSize(), true)
	NoGrad(func() { dst.Copy_(src) })
	src.MustDrop()
}

// initStates are every sample's reset (answer, latent): the fixed initial
// vectors at every position.
func (r refNet) initStates(w refWeights) [][2]seq64 {
	names := [2]string{"y_init", "z_init"}
	if r.core == experiments.CoreHRM {
		names = [2]string{"z_H_init", "z_L_init"}
	}
	out := make([][2]seq64, len(refTokens))
	for b := range out {
		for i, n := range names {
			for range r.prefix + len(refTokens[b]) {
				out[b][i] = append(out[b][i], w[n])
			}
		}
	}
	return out
}

// loss is the test's loss over the batch when calls [from, calls) of a
// segment run from states: summed softmax cross-entropy plus a fixed linear
// function of the q logits.
func (r refNet) loss(w refWeights, states [][2]seq64, from int) float64 {
	total := 0.0
	for b := range refTokens {
		s := r.outputs(w, r.run(w, b, states[b], from, r.calls()))
		for i, l := range s.logits {
			total += refSoftmaxCE(l, int(refLabels[b][i]))
		}
		total += refQLoss[0]*s.q[0] + refQLoss[1]*s.q[1]
	}
	return total
}

// gotchRun is what Model.Segment gives for two segments from the reset
// carry, the second from the first's detached carry as the trainer runs
// them, and the gradients of the second segment's loss.
type gotchRun struct {
	first, second []refSegment
	grads         refWeights // by parameter name, and "puzzle"
}

func runGotch(t *testing.T, m *Model, w refWeights, grad experiments.Gradient) gotchRun {
	t.Helper()
	// Earlier tests' unreferenced tensors are freed by finalizers at any
	// time, so the count may fall while this runs; only a rise is a leak.
	runtime.GC()
	live := LiveTensors()
	b, d, v := int64(len(refTokens)), int64(m.hidden), int64(m.Shape.Vocab)
	tok := ts.MustOfSlice(slices.Concat(refTokens...)).MustView([]int64{b, -1}, true)
	lab := ts.MustOfSlice(slices.Concat(refLabels...))
	var puzzle *ts.Tensor
	if m.prefix > 0 {
		puzzle = ts.MustOfSlice(w["puzzle"]).MustTotype(gotch.Float, true).MustView([]int64{b, d}, true)
		puzzle.MustRequiresGrad_(true)
	}
	c0 := m.InitCarry(b)
	c1, o1 := m.Segment(c0, tok, puzzle, grad)
	carry := c1.Detach()
	c2, o2 := m.Segment(carry, tok, puzzle, grad)
	run := gotchRun{first: refReadOutput(o1), second: refReadOutput(o2), grads: refWeights{}}

	ce := o2.Logits.MustReshape([]int64{-1, v}, false).
		MustCrossEntropyLoss(lab, ts.None, ts.ReductionSum, -100, 0, true)
	qh, qc := ts.FloatScalar(refQLoss[0]), ts.FloatScalar(refQLoss[1])
	halt := o2.QHalt.MustSum(gotch.Float, false).MustMulScalar(qh, true)
	cont := o2.QContinue.MustSum(gotch.Float, false).MustMulScalar(qc, true)
	loss := ce.MustAdd(halt, true).MustAdd(cont, true)
	loss.MustBackward()
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
	if got := LiveTensors(); got > live {
		t.Fatalf("live tensors %d → %d over two segments and a backward, want no more", live, got)
	}
	return run
}

// refSample reads sample b of a (B, L, X) tensor.
func refSample(x *ts.Tensor, b int) seq64 {
	size, vals := x.MustSize(), x.Float64Values()
	l, n := int(size[1]), int(size[2])
	var out seq64
	for p := range l {
		out = append(out, vals[(b*l+p)*n:(b*l+p+1)*n])
	}
	return out
}

func refReadOutput(o *Output) []refSegment {
	qh, qc := o.QHalt.Float64Values(), o.QContinue.Float64Values()
	out := make([]refSegment, len(qh))
	for b := range out {
		out[b] = refSegment{logits: refSample(o.Logits, b), q: [2]float64{qh[b], qc[b]}}
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

// refProbes picks three entries, spread over each tensor, of every
// parameter and of the puzzle rows: they land in q, k and v of qkv, in gate
// and up of gate_up, and in token rows the batch uses.
func refProbes(grads refWeights) []refEntry {
	var out []refEntry
	for _, name := range slices.Sorted(maps.Keys(grads)) {
		for _, f := range []float64{0.1, 0.45, 0.8} {
			out = append(out, refEntry{name, int(f * float64(len(grads[name])))})
		}
	}
	return out
}

var refModes = []experiments.Gradient{experiments.GradientFull, experiments.GradientLastCycle, experiments.GradientOneStep}

// TestReferenceSegment runs two segments of every case in every gradient
// mode through Model.Segment (the second from the first's detached carry, so
// the latent state is checked through it), compares the outputs with the
// reference, and the gradients of the second segment's loss with central
// finite differences of the reference.
func TestReferenceSegment(t *testing.T) {
	const tol = 1e-4 // float32 against float64
	for i, c := range refCases {
		t.Run(c.name, func(t *testing.T) {
			runs := map[experiments.Gradient]gotchRun{}
			var net refNet
			var w refWeights
			for _, grad := range refModes { // a fresh model each, so gradients do not accumulate
				var m *Model
				m, net, w = refModel(t, i)
				runs[grad] = runGotch(t, m, w, grad)
			}
			start := net.initStates(w)
			for b := range refTokens {
				first := net.outputs(w, net.run(w, b, start[b], 0, net.calls()))
				second := net.outputs(w, net.run(w, b, first.states, 0, net.calls()))
				start[b] = first.states
				for _, grad := range refModes {
					for seg, want := range []refSegment{first, second} {
						got := [2][]refSegment{runs[grad].first, runs[grad].second}[seg][b]
						d := max(maxSeqDiff(got.logits, want.logits), maxSeqDiff(seq64{got.q[:]}, seq64{want.q[:]}))
						if !(d <= tol) {
							t.Errorf("%s, segment %d, sample %d: logits and q differ from the reference by %.3g, want ≤ %g",
								grad, seg+1, b, d, tol)
						}
					}
				}
			}
			refCheckGradients(t, net, w, start, runs)
		})
	}
}

// refCheckGradients compares gotch's gradients of the loss of a segment from
// start with central finite differences of the reference. The calls before
// a truncated mode's cut run without gradient, so their output is a
// constant: the finite difference starts from the states after them and
// perturbs only the differentiated calls (with the x they see) and the heads.
func refCheckGradients(t *testing.T, net refNet, w refWeights, start [][2]seq64, runs map[experiments.Gradient]gotchRun) {
	const h = 1e-5
	cuts, mids := map[experiments.Gradient]int{}, map[experiments.Gradient][][2]seq64{}
	for _, grad := range refModes {
		cuts[grad] = net.calls() - net.differentiated(grad)
		for b := range start {
			mids[grad] = append(mids[grad], net.run(w, b, start[b], 0, cuts[grad]))
		}
	}
	worst := 0.0                           // the largest |error|/tolerance
	cut := map[experiments.Gradient]bool{} // some entry's truncated gradient differs from the full one
	probes := refProbes(runs[experiments.GradientFull].grads)
	scale := map[string]float64{} // RMS of each tensor's full gradient
	for name, g := range runs[experiments.GradientFull].grads {
		var sq float64
		for _, v := range g {
			sq += v * v
		}
		scale[name] = math.Sqrt(sq / float64(max(len(g), 1)))
	}
	for _, e := range probes {
		up, down := w.with(e, h), w.with(e, -h)
		full := (net.loss(up, start, 0) - net.loss(down, start, 0)) / (2 * h)
		for _, grad := range refModes {
			want := full
			if grad != experiments.GradientFull {
				want = (net.loss(up, mids[grad], cuts[grad]) - net.loss(down, mids[grad], cuts[grad])) / (2 * h)
			}
			// float32 rounding accumulates with the size of the terms summed,
			// so the tolerance scales with the tensor's gradients too: a tiny
			// entry of a large gradient is only known to that precision.
			got, tol := runs[grad].grads[e.name][e.index], 1e-3*(math.Abs(want)+scale[e.name])+1e-5
			worst = math.Max(worst, math.Abs(got-want)/tol)
			if !(math.Abs(got-want) <= tol) {
				t.Errorf("%s: d loss/d %s[%d] = %.6g, reference %.6g (full BPTT %.6g), want within %.2g",
					grad, e.name, e.index, got, want, full, tol)
			}
			cut[grad] = cut[grad] || math.Abs(full-want) > 10*tol
		}
	}
	t.Logf("%d probed entries; largest gradient error %.2g of the tolerance", len(probes), worst)
	for _, grad := range refModes[1:] {
		if !cut[grad] {
			t.Errorf("%s: no probed gradient differs from full BPTT, so a missing cut would go unseen", grad)
		}
	}
}

// TestReferenceResetKeepsInitStates: Reset puts reset samples back at the
// initial states and keeps the others, without freeing the model's
// initial-state buffers, which every later Reset needs again.
func TestReferenceResetKeepsInitStates(t *testing.T) {
	m, net, w := refModel(t, 0)
	tok := ts.MustOfSlice(slices.Concat(refTokens...)).MustView([]int64{2, -1}, true)
	c0 := m.InitCarry(2)
	c1, o1 := m.Segment(c0, tok, nil, experiments.GradientFull)
	carry := c1.Detach()
	mask := ts.MustOfSlice([]bool{true, false})
	reset := m.Reset(carry, mask)
	for _, name := range []string{"y_init", "z_init"} {
		if m.Params.Named()[name].Ctensor() == nil {
			t.Errorf("Reset freed the model's %s buffer, which the next Reset needs", name)
		}
	}
	init := net.initStates(w)
	for i, s := range reset.States {
		if d := maxSeqDiff(refSample(s, 0), init[0][i]); d > 1e-6 {
			t.Errorf("reset sample, state %d: differs from the initial state by %g", i, d)
		}
		if d := maxSeqDiff(refSample(s, 1), refSample(carry.States[i], 1)); d != 0 {
			t.Errorf("kept sample, state %d: differs from its carry by %g", i, d)
		}
	}
	for _, x := range []interface{ Drop() }{c0, o1, c1, carry, reset} {
		x.Drop()
	}
	tok.MustDrop()
	mask.MustDrop()
}
