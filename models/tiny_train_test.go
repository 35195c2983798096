package models

import (
	"runtime"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/rt"
	"github.com/sugarme/gotch/ts"
)

// tinyRun trains a 16→64→4 MLP to imitate a random linear teacher, full
// batch, and returns the loss at every step plus memory readings taken at
// the steps in probe.
type tinyRun struct {
	losses []float64
	rss    map[int]int64
	live   map[int]int
}

func trainTiny(t testing.TB, seed int64, steps int, probe ...int) tinyRun {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rt.ManualSeed(seed) // the data below is drawn by libtorch
	x := ts.MustRandn([]int64{256, 16}, gotch.Float, gotch.CPU)
	teacher := ts.MustRandn([]int64{16, 4}, gotch.Float, gotch.CPU)
	y := x.MustMatmul(teacher, false).MustArgmax([]int64{1}, false, true)
	teacher.MustDrop()
	defer x.MustDrop()
	defer y.MustDrop()

	vs := nn.NewVarStore(gotch.CPU)
	init := nn.NewRandnInit(0, 0.25)
	w1 := vs.Root().MustNewVar("w1", []int64{16, 64}, init)
	w2 := vs.Root().MustNewVar("w2", []int64{64, 4}, init)
	opt, err := nn.NewAdamWConfig(0.9, 0.95, 0.01).Build(vs, 1e-2)
	if err != nil {
		t.Fatal(err)
	}
	run := tinyRun{rss: map[int]int64{}, live: map[int]int{}}
	for step := 1; step <= steps; step++ {
		h := x.MustMatmul(w1, false).MustRelu(true)
		logits := h.MustMatmul(w2, true)
		loss := logits.MustCrossEntropyLoss(y, ts.None, int64(1), -100, 0, true)
		opt.ZeroGrad()
		loss.MustBackward()
		opt.Step()
		run.losses = append(run.losses, loss.Float64Values(true)[0])
		for _, p := range probe {
			if p == step {
				run.rss[step], run.live[step] = RSSBytes(), LiveTensors()
			}
		}
	}
	return run
}

func TestTinyNetworkTrains(t *testing.T) {
	a := trainTiny(t, 7, 300)
	if first, last := a.losses[0], a.losses[len(a.losses)-1]; last > 0.3 || last > first/3 {
		t.Fatalf("loss %.3f → %.3f after 300 steps, want < 0.3 and < a third of the start", first, last)
	}
	b := trainTiny(t, 7, 300)
	for i := range a.losses {
		if a.losses[i] != b.losses[i] {
			t.Fatalf("same seed, step %d: loss %v vs %v, want identical", i+1, a.losses[i], b.losses[i])
		}
	}
	c := trainTiny(t, 8, 3)
	if c.losses[0] == a.losses[0] {
		t.Fatalf("different seeds gave the same first loss %v", c.losses[0])
	}
}

func TestTinyNetworkMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 training steps")
	}
	r := trainTiny(t, 7, 2000, 200, 2000)
	growth := float64(r.rss[2000]-r.rss[200]) / float64(r.rss[200])
	t.Logf("RSS %d MiB at step 200, %d MiB at step 2000 (%+.2f%%); live tensors %d → %d",
		r.rss[200]>>20, r.rss[2000]>>20, 100*growth, r.live[200], r.live[2000])
	if growth > 0.03 {
		t.Fatalf("RSS grew %.1f%% between steps 200 and 2000, want < 3%%", 100*growth)
	}
	// Finalizers of earlier tests may lower the count; a leak would raise it.
	if r.live[2000] > r.live[200] {
		t.Fatalf("live tensors %d at step 200, %d at step 2000, want no growth", r.live[200], r.live[2000])
	}
}
