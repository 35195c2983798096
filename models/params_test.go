package models

import (
	"math"
	"runtime"
	"sync"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/rt"

	"outerloop/experiments"
)

// initialWeights builds a tiny model from seed and returns its tensors'
// values by name.
func initialWeights(t testing.TB, core experiments.Core, seed int64) map[string][]float64 {
	t.Helper()
	m, err := New(tinyConfig(core), tinyShape, Placement{Device: gotch.CPU}, seed)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer m.Params.Drop()
	out := map[string][]float64{}
	for name, x := range m.Params.Named() {
		out[name] = x.Float64Values()
	}
	return out
}

func sameWeights(a, b map[string][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		y, ok := b[name]
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
	}
	return true
}

// Two runs in one process build their models at the same moment; each must
// get the weights its seed gives alone, whatever else draws random numbers
// meanwhile (libtorch's generator is process-wide, ours are not).
func TestInitialWeightsDependOnlyOnSeed(t *testing.T) {
	for _, core := range allCores {
		t.Run(string(core), func(t *testing.T) {
			runtime.LockOSThread()
			alone1, alone2 := initialWeights(t, core, 1), initialWeights(t, core, 2)
			if sameWeights(alone1, alone2) {
				t.Fatal("seeds 1 and 2 gave the same weights")
			}
			for round := 0; round < 5; round++ {
				var wg sync.WaitGroup
				got := make([]map[string][]float64, 2)
				for i := range got {
					wg.Add(1)
					go func() {
						defer wg.Done()
						runtime.LockOSThread()
						defer runtime.UnlockOSThread()
						rt.ManualSeed(int64(100 + i)) // as a careless neighbour would
						got[i] = initialWeights(t, core, int64(i+1))
					}()
				}
				wg.Wait()
				if !sameWeights(got[0], alone1) || !sameWeights(got[1], alone2) {
					t.Fatalf("round %d: weights built concurrently differ from those built alone", round)
				}
			}
		})
	}
}

// The draw is HRM's truncated normal: inside ±2σ' and with standard deviation
// std (not the smaller spread of PyTorch's trunc_normal_).
func TestTruncNormalSpread(t *testing.T) {
	tests := []struct{ std float64 }{{1}, {0.125}, {1 / math.Sqrt(512)}}
	for _, tt := range tests {
		p := NewParams(gotch.CPU, 7)
		x := p.truncNormal([]int64{200, 500}, tt.std)
		v := x.Float64Values()
		x.MustDrop()
		var sum, sq, peak float64
		for _, f := range v {
			sum += f
			sq += f * f
			peak = max(peak, math.Abs(f))
		}
		n := float64(len(v))
		mean, sd := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		if math.Abs(mean) > 0.01*tt.std || math.Abs(sd/tt.std-1) > 0.01 {
			t.Errorf("std %g: mean %.4g sd %.4g, want 0 and %.4g", tt.std, mean, sd, tt.std)
		}
		// 2 / 0.8796 is the truncation bound in units of std.
		if bound := 2 * tt.std / 0.87962566; peak > bound*(1+1e-6) || peak < 0.99*bound {
			t.Errorf("std %g: largest |x| %.4g, want just under %.4g", tt.std, peak, bound)
		}
	}
}
