package train

import (
	"math"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// TestAdamMatchesItsDefinition takes three steps of each rule on a tiny
// tensor and compares them with the update re-derived in float64 by hand.
// The loss Σ c·p has gradient c at every step; c holds a zero, where
// adam-atan2's atan2(0, 0) must give no step (and no NaN).
func TestAdamMatchesItsDefinition(t *testing.T) {
	const lr, wd, b1, b2 = 0.01, 0.1, 0.9, 0.95
	tests := []struct {
		rule experiments.Optimizer
		// u is the step direction from the raw moment m and the
		// bias-corrected root d = √v / √(1−β2^t).
		u func(m, d float64) float64
	}{
		{experiments.OptimizerAdamW, func(m, d float64) float64 { return m / (d + 1e-8) }},
		{experiments.OptimizerAdamATan2, math.Atan2},
	}
	for _, tt := range tests {
		t.Run(string(tt.rule), func(t *testing.T) {
			lockThread()
			cfg := experiments.DefaultTrainConfig()
			cfg.Optimizer, cfg.Beta1, cfg.Beta2, cfg.WeightDecay = tt.rule, b1, b2, wd
			p := ts.MustOfSlice([]float32{1, -2, 0.5})
			p.MustRequiresGrad_(true)
			defer p.MustDrop()
			o := newAdam([]*ts.Tensor{p}, cfg)
			defer o.drop()
			c := []float64{0.5, -3, 0}
			want := []float64{1, -2, 0.5}
			m, v := make([]float64, 3), make([]float64, 3)
			for step := 1; step <= 3; step++ {
				zeroGrad(o.params)
				w := ts.MustOfSlice([]float32{0.5, -3, 0})
				loss := p.MustMul(w, false).MustSum(gotch.Float, true)
				loss.MustBackward()
				loss.MustDrop()
				w.MustDrop()
				o.step(lr)
				bc1 := 1 - math.Pow(b1, float64(step))
				bc2 := 1 - math.Pow(b2, float64(step))
				for i := range want {
					m[i] = b1*m[i] + (1-b1)*c[i]
					v[i] = b2*v[i] + (1-b2)*c[i]*c[i]
					d := math.Sqrt(v[i]) / math.Sqrt(bc2)
					want[i] = want[i]*(1-lr*wd) - lr/bc1*tt.u(m[i], d)
				}
				got := p.Float64Values()
				for i := range want {
					if math.Abs(got[i]-want[i]) > 1e-6 {
						t.Fatalf("step %d: p = %v, want %v", step, got, want)
					}
				}
			}
		})
	}
}

// TestAdamATan2FirstStep pins the first step in closed form: m = 0.1·g and
// d = |g|, so every coordinate with a gradient moves by
// lr/0.1 · atan(0.1) ≈ 0.9967·lr against its gradient's sign, whatever the
// gradient's size.
func TestAdamATan2FirstStep(t *testing.T) {
	lockThread()
	cfg := experiments.DefaultTrainConfig()
	cfg.Optimizer, cfg.Beta1, cfg.WeightDecay = experiments.OptimizerAdamATan2, 0.9, 0
	p := ts.MustOfSlice([]float32{0, 0})
	p.MustRequiresGrad_(true)
	defer p.MustDrop()
	o := newAdam([]*ts.Tensor{p}, cfg)
	defer o.drop()
	w := ts.MustOfSlice([]float32{1e-6, -1e4})
	loss := p.MustMul(w, false).MustSum(gotch.Float, true)
	loss.MustBackward()
	loss.MustDrop()
	w.MustDrop()
	o.step(1)
	step := math.Atan(0.1) / 0.1
	got := p.Float64Values()
	if math.Abs(got[0]+step) > 1e-6 || math.Abs(got[1]-step) > 1e-6 {
		t.Fatalf("p = %v, want [%v %v]", got, -step, step)
	}
}
