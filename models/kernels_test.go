package models

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/kernels"
	"github.com/sugarme/gotch/ts"
)

// kernelCase is one fused kernel under test: the shapes of its
// differentiable inputs, the kernel as a scalar loss Σ w·out over its
// outputs, and the same function written with ATen ops one by one (what the
// layers did before the kernels), which both the loss and the forward values
// are compared with.
type kernelCase struct {
	name   string
	shapes [][]int64
	fused  func(in []*ts.Tensor) []*ts.Tensor
	ops    func(in []*ts.Tensor) []*ts.Tensor
}

const kernelEps = 1e-5

func kernelCases(tables []*ts.Tensor) []kernelCase {
	cos, sin := tables[0], tables[1]
	const heads = 2
	return []kernelCase{
		{
			name:   "add-rms-norm",
			shapes: [][]int64{{2, 3, 8}, {2, 3, 8}},
			fused:  func(in []*ts.Tensor) []*ts.Tensor { return []*ts.Tensor{kernels.AddRMSNorm(in[0], in[1], kernelEps)} },
			ops:    func(in []*ts.Tensor) []*ts.Tensor { return []*ts.Tensor{rmsOps(in[0].MustAdd(in[1], false))} },
		},
		{
			name:   "rms-norm",
			shapes: [][]int64{{4, 6}},
			fused:  func(in []*ts.Tensor) []*ts.Tensor { return []*ts.Tensor{kernels.AddRMSNorm(in[0], nil, kernelEps)} },
			ops:    func(in []*ts.Tensor) []*ts.Tensor { return []*ts.Tensor{rmsOps(in[0].MustShallowClone())} },
		},
		{
			// The token mixer normalises a transposed (non-contiguous) view.
			name:   "add-rms-norm-transposed",
			shapes: [][]int64{{2, 5, 3}, {2, 3, 5}},
			fused: func(in []*ts.Tensor) []*ts.Tensor {
				xt := in[0].MustTranspose(1, 2, false)
				defer xt.MustDrop()
				return []*ts.Tensor{kernels.AddRMSNorm(xt, in[1], kernelEps)}
			},
			ops: func(in []*ts.Tensor) []*ts.Tensor {
				xt := in[0].MustTranspose(1, 2, false)
				return []*ts.Tensor{rmsOps(xt.MustAdd(in[1], true))}
			},
		},
		{
			name:   "swiglu",
			shapes: [][]int64{{2, 3, 10}},
			fused:  func(in []*ts.Tensor) []*ts.Tensor { return []*ts.Tensor{kernels.SwiGLU(in[0])} },
			ops: func(in []*ts.Tensor) []*ts.Tensor {
				g := in[0].MustNarrow(-1, 0, 5, false).MustSilu(true)
				return []*ts.Tensor{in[0].MustNarrow(-1, 5, 5, false).MustMul(g, true)}
			},
		},
		qkvCase("qkv-rope", cos, sin, heads),
		qkvCase("qkv-no-rope", nil, nil, heads),
	}
}

// qkvCase checks QKVRoPE with the tables cos and sin (nil: no rotation).
func qkvCase(name string, cos, sin *ts.Tensor, heads int64) kernelCase {
	return kernelCase{
		name:   name,
		shapes: [][]int64{{2, 3, 3 * heads * 4}},
		fused: func(in []*ts.Tensor) []*ts.Tensor {
			q, k, v := kernels.QKVRoPE(in[0], cos, sin, heads)
			return []*ts.Tensor{q, k, v}
		},
		ops: func(in []*ts.Tensor) []*ts.Tensor { return qkvOps(in[0], cos, sin, heads) },
	}
}

// rmsOps is s/√(mean(s²) + eps), freeing s.
func rmsOps(s *ts.Tensor) *ts.Tensor {
	eps := ts.FloatScalar(kernelEps)
	defer eps.MustDrop()
	r := s.MustSquare(false).MustMeanDim([]int64{-1}, true, s.DType(), true).MustAddScalar(eps, true).MustRsqrt(true)
	out := s.MustMul(r, true)
	r.MustDrop()
	return out
}

// qkvOps splits (B, L, 3·H·hd) into q, k, v (B, H, L, hd) and rotates q
// and k: x·cos + [−x₂ | x₁]·sin.
func qkvOps(qkv, cos, sin *ts.Tensor, heads int64) []*ts.Tensor {
	size := qkv.MustSize()
	b, l, hd := size[0], size[1], size[2]/(3*heads)
	p := qkv.MustView([]int64{b, l, 3, heads, hd}, false).MustPermute([]int64{2, 0, 3, 1, 4}, true)
	defer p.MustDrop()
	var out []*ts.Tensor
	for i := int64(0); i < 3; i++ {
		x := p.MustSelect(0, i, false)
		if cos != nil && i < 2 {
			x1 := x.MustNarrow(-1, 0, hd/2, false)
			x2 := x.MustNarrow(-1, hd/2, hd/2, false).MustNeg(true)
			rot := ts.MustCat([]*ts.Tensor{x2, x1}, -1).MustMul(sin, true)
			x1.MustDrop()
			x2.MustDrop()
			x = x.MustMul(cos, true).MustAdd(rot, true)
			rot.MustDrop()
		}
		out = append(out, x)
	}
	return out
}

// kernelInputs builds float64 tensors from values, requiring grad if asked.
func kernelInputs(vals [][]float64, shapes [][]int64, grad bool) []*ts.Tensor {
	var in []*ts.Tensor
	for i, v := range vals {
		t := ts.MustOfSlice(v).MustView(shapes[i], true)
		if grad {
			t.MustRequiresGrad_(true)
		}
		in = append(in, t)
	}
	return in
}

// weightedLoss is Σ w·out over the outputs, with w fixed per case.
func weightedLoss(outs []*ts.Tensor, w [][]float64) *ts.Tensor {
	var loss *ts.Tensor
	for i, o := range outs {
		wt := ts.MustOfSlice(w[i]).MustView(o.MustSize(), true)
		term := o.MustMul(wt, false).MustSum(gotch.Double, true)
		wt.MustDrop()
		if loss == nil {
			loss = term
		} else {
			loss = loss.MustAdd(term, true)
			term.MustDrop()
		}
	}
	return loss
}

// values reads a tensor of any layout and dtype as float64s.
func values(t *ts.Tensor) []float64 {
	c := t.MustContiguous(false)
	defer c.MustDrop()
	return c.Float64Values()
}

func dropAll(ts []*ts.Tensor) {
	for _, t := range ts {
		t.MustDrop()
	}
}

// TestKernelGradients checks every fused kernel in float64: its forward
// against the unfused ATen ops, and its backward pass against central
// finite differences of its own forward at every input entry.
func TestKernelGradients(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(7, 11))
	randn := func(n int64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		return v
	}
	numel := func(s []int64) int64 {
		n := int64(1)
		for _, d := range s {
			n *= d
		}
		return n
	}
	// Tables for 3 positions of head width 4; the identity holds for any.
	tables := kernelInputs([][]float64{randn(12), randn(12)}, [][]int64{{3, 4}, {3, 4}}, false)
	defer dropAll(tables)
	for _, c := range kernelCases(tables) {
		t.Run(c.name, func(t *testing.T) {
			// Grad mode is per OS thread and t.Run starts a goroutine.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var vals [][]float64
			for _, s := range c.shapes {
				vals = append(vals, randn(numel(s)))
			}
			// Output weights, from the shapes the unfused ops produce.
			probe := kernelInputs(vals, c.shapes, false)
			ref := c.ops(probe)
			var w [][]float64
			for _, o := range ref {
				w = append(w, randn(numel(o.MustSize())))
			}
			loss := func(vals [][]float64) float64 {
				var l float64
				NoGrad(func() {
					in := kernelInputs(vals, c.shapes, false)
					outs := c.fused(in)
					s := weightedLoss(outs, w)
					l = s.Float64Values()[0]
					s.MustDrop()
					dropAll(outs)
					dropAll(in)
				})
				return l
			}

			// Forward: fused against the ops, entry by entry.
			var got []*ts.Tensor
			NoGrad(func() { got = c.fused(probe) })
			for i := range ref {
				a, b := values(got[i]), values(ref[i])
				for j := range b {
					if d := math.Abs(a[j] - b[j]); !(d <= 1e-12*(1+math.Abs(b[j]))) {
						t.Fatalf("output %d[%d] = %.15g, unfused ops give %.15g", i, j, a[j], b[j])
					}
				}
			}
			dropAll(got)
			dropAll(ref)
			dropAll(probe)

			// Backward against finite differences.
			in := kernelInputs(vals, c.shapes, true)
			defer dropAll(in)
			outs := c.fused(in)
			l := weightedLoss(outs, w)
			l.MustBackward()
			l.MustDrop()
			dropAll(outs)
			const h = 1e-6
			worst := 0.0
			for i := range vals {
				g := in[i].MustGrad(false)
				grad := g.Float64Values()
				g.MustDrop()
				for j := range vals[i] {
					orig := vals[i][j]
					vals[i][j] = orig + h
					up := loss(vals)
					vals[i][j] = orig - h
					down := loss(vals)
					vals[i][j] = orig
					fd := (up - down) / (2 * h)
					err := math.Abs(grad[j] - fd)
					worst = math.Max(worst, err)
					if !(err <= 1e-6*(1+math.Abs(fd))) {
						t.Errorf("d loss/d input %d[%d] = %.10g, finite difference %.10g", i, j, grad[j], fd)
					}
				}
			}
			t.Logf("largest gradient error %.2g", worst)
		})
	}
}

// TestKernelsFallBackOffTheFusedPath: bfloat16 inputs take the kernels'
// ATen branch (as CUDA tensors do), which must compute the same function.
func TestKernelsFallBackOffTheFusedPath(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustRandn([]int64{2, 4, 16}, gotch.Float, gotch.CPU)
	r := ts.MustRandn([]int64{2, 4, 16}, gotch.Float, gotch.CPU)
	cos := ts.MustRandn([]int64{4, 4}, gotch.Float, gotch.CPU)
	sin := ts.MustRandn([]int64{4, 4}, gotch.Float, gotch.CPU)
	qkv := ts.MustRandn([]int64{2, 4, 3 * 2 * 4}, gotch.Float, gotch.CPU)
	inputs := []*ts.Tensor{x, r, cos, sin, qkv}
	defer dropAll(inputs)
	lo := func(t *ts.Tensor) *ts.Tensor { return t.MustTotype(gotch.BFloat16, false) }
	tests := []struct {
		name string
		run  func(low bool) []*ts.Tensor
	}{
		{"add-rms-norm", func(low bool) []*ts.Tensor {
			if low {
				a, b := lo(x), lo(r)
				defer dropAll([]*ts.Tensor{a, b})
				return []*ts.Tensor{kernels.AddRMSNorm(a, b, kernelEps)}
			}
			return []*ts.Tensor{kernels.AddRMSNorm(x, r, kernelEps)}
		}},
		{"swiglu", func(low bool) []*ts.Tensor {
			if low {
				a := lo(qkv)
				defer a.MustDrop()
				return []*ts.Tensor{kernels.SwiGLU(a)}
			}
			return []*ts.Tensor{kernels.SwiGLU(qkv)}
		}},
		{"qkv-rope", func(low bool) []*ts.Tensor {
			if low {
				a, c, s := lo(qkv), lo(cos), lo(sin)
				defer dropAll([]*ts.Tensor{a, c, s})
				q, k, v := kernels.QKVRoPE(a, c, s, 2)
				return []*ts.Tensor{q, k, v}
			}
			q, k, v := kernels.QKVRoPE(qkv, cos, sin, 2)
			return []*ts.Tensor{q, k, v}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			want, got := tt.run(false), tt.run(true)
			defer dropAll(append(want, got...))
			for i := range want {
				if got[i].DType() != gotch.BFloat16 {
					t.Fatalf("output %d is %v, want the input's bfloat16", i, got[i].DType())
				}
				a, b := values(got[i]), values(want[i])
				for j := range b {
					if d := math.Abs(a[j] - b[j]); !(d <= 0.05*(1+math.Abs(b[j]))) {
						t.Fatalf("output %d[%d]: bfloat16 path %.4g, float32 path %.4g", i, j, a[j], b[j])
					}
				}
			}
		})
	}
}

// TestKernelErrorsAreTorchErrors: a bad shape reaches Go as a panic with a
// *ts.TorchError naming the kernel, which a run recovers from.
func TestKernelErrorsAreTorchErrors(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustOnes([]int64{2, 3, 10}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	var got any
	func() {
		defer func() { got = recover() }()
		q, k, v := kernels.QKVRoPE(x, nil, nil, 4) // 10 is not 3·4·hd
		dropAll([]*ts.Tensor{q, k, v})
	}()
	var te *ts.TorchError
	if err, ok := got.(error); !ok || !errors.As(err, &te) || !strings.Contains(te.FirstLine(), "qkv_rope") {
		t.Fatalf("recovered %T %v, want a *ts.TorchError from qkv_rope", got, got)
	}
}

// BenchmarkKernels times each fused kernel, forward and backward, against
// the unfused ops it replaced, at a 4×4 Sudoku step's shapes (batch 64,
// 16 positions, d = 64, SwiGLU width 256, 4 heads).
func BenchmarkKernels(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	x := ts.MustRandn([]int64{64, 16, 64}, gotch.Float, gotch.CPU)
	r := ts.MustRandn([]int64{64, 16, 64}, gotch.Float, gotch.CPU)
	gu := ts.MustRandn([]int64{64, 16, 512}, gotch.Float, gotch.CPU)
	qkv := ts.MustRandn([]int64{64, 16, 3 * 64}, gotch.Float, gotch.CPU)
	cos := ts.MustRandn([]int64{16, 16}, gotch.Float, gotch.CPU)
	sin := ts.MustRandn([]int64{16, 16}, gotch.Float, gotch.CPU)
	all := []*ts.Tensor{x, r, gu, qkv, cos, sin}
	defer dropAll(all)
	for _, t := range []*ts.Tensor{x, r, gu, qkv} {
		t.MustRequiresGrad_(true)
	}
	tables := []*ts.Tensor{cos, sin}
	for _, c := range kernelCases(tables) {
		if c.name == "add-rms-norm-transposed" || c.name == "qkv-no-rope" {
			continue
		}
		var in []*ts.Tensor
		switch {
		case strings.HasPrefix(c.name, "add-rms"):
			in = []*ts.Tensor{x, r}
		case c.name == "rms-norm":
			in = []*ts.Tensor{x}
		case c.name == "swiglu":
			in = []*ts.Tensor{gu}
		default:
			in = []*ts.Tensor{qkv}
		}
		for _, way := range []struct {
			name string
			f    func([]*ts.Tensor) []*ts.Tensor
		}{{"fused", c.fused}, {"ops", c.ops}} {
			if c.name == "swiglu" && way.name == "ops" {
				way.f = func(in []*ts.Tensor) []*ts.Tensor { // the width here is 256, not the test's 5
					g := in[0].MustNarrow(-1, 0, 256, false).MustSilu(true)
					return []*ts.Tensor{in[0].MustNarrow(-1, 256, 256, false).MustMul(g, true)}
				}
			}
			if c.name == "qkv-rope" && way.name == "ops" {
				way.f = func(in []*ts.Tensor) []*ts.Tensor { return qkvOps(in[0], cos, sin, 4) }
			}
			if c.name == "qkv-rope" && way.name == "fused" {
				way.f = func(in []*ts.Tensor) []*ts.Tensor {
					q, k, v := kernels.QKVRoPE(in[0], cos, sin, 4)
					return []*ts.Tensor{q, k, v}
				}
			}
			b.Run(c.name+"/"+way.name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				for i := 0; i < b.N; i++ {
					outs := way.f(in)
					var loss *ts.Tensor
					for _, o := range outs {
						s := o.MustSum(gotch.Float, false)
						if loss == nil {
							loss = s
						} else {
							loss = loss.MustAdd(s, true)
							s.MustDrop()
						}
					}
					loss.MustBackward()
					loss.MustDrop()
					dropAll(outs)
				}
			})
		}
	}
}
