package models

import (
	"math"
	"runtime"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// TestBF16Segment checks the bf16 placement of every core (and UT with
// ACT, and the MLP mixer): the carried states and the token logits are
// bfloat16 — nothing promoted the hidden states back to float32 — while
// the halting logits are float32, and the gradients reaching the float32
// parameters are float32 and finite.
func TestBF16Segment(t *testing.T) {
	type variant struct {
		name string
		mod  func(*experiments.ModelConfig)
	}
	variants := []variant{}
	for _, core := range allCores {
		variants = append(variants, variant{string(core), func(c *experiments.ModelConfig) { c.Core = core }})
	}
	variants = append(variants,
		variant{"ut-act", func(c *experiments.ModelConfig) { c.Core, c.ACT = experiments.CoreUT, true }},
		variant{"trm-mlp", func(c *experiments.ModelConfig) {
			c.Core, c.Mixer, c.Pos = experiments.CoreTRM, experiments.MixerMLP, experiments.PosNone
		}},
		variant{"rope", func(c *experiments.ModelConfig) { c.Core, c.Pos = experiments.CoreTRM, experiments.PosRoPE }},
	)
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			runtime.LockOSThread()
			cfg := tinyConfig(experiments.CoreTRM)
			v.mod(&cfg)
			m, err := New(cfg, tinyShape, Placement{Device: gotch.CPU, BF16: true}, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Params.Drop()
			tokens := ts.MustOnes([]int64{2, int64(tinyShape.SeqLen)}, gotch.Int64, gotch.CPU)
			defer tokens.MustDrop()
			carry := m.InitCarry(2)
			defer carry.Drop()
			next, out := m.Segment(carry, tokens, nil, experiments.GradientFull)
			defer next.Drop()
			defer out.Drop()
			for i, s := range next.States {
				if s.DType() != gotch.BFloat16 {
					t.Fatalf("state %d is %v, want bfloat16", i, s.DType())
				}
			}
			if out.Logits.DType() != gotch.BFloat16 || out.QHalt.DType() != gotch.Float {
				t.Fatalf("logits %v and halting logits %v, want bfloat16 and float32", out.Logits.DType(), out.QHalt.DType())
			}
			loss := out.Logits.MustTotype(gotch.Float, false).MustSquare(true).MustMean(gotch.Float, true)
			loss.MustBackward()
			loss.MustDrop()
			for _, p := range m.Params.Trainable() {
				g := p.MustGrad(false)
				if g.MustDefined() {
					if g.DType() != gotch.Float {
						t.Fatalf("a gradient is %v, want float32", g.DType())
					}
					if n := g.MustNorm(false).Float64Values(true)[0]; math.IsNaN(n) || math.IsInf(n, 0) {
						t.Fatalf("a gradient norm is %v", n)
					}
				}
				g.MustDrop()
			}
		})
	}
}
