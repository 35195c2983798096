package models

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/kernels"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"
)

// Each test below fails on an unpatched gotch v0.9.1; setup/gotchpatch is
// what makes them pass (docs/libtorch.md lists the fixes).

func TestTensorCreatesNoGoGarbage(t *testing.T) {
	x := ts.MustOnes([]int64{4}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	one := ts.FloatScalar(1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const ops = 2000
	for i := 0; i < ops; i++ {
		x.MustAddScalar(one, false).MustDrop()
	}
	runtime.ReadMemStats(&after)
	// Unpatched, each result tensor carries a 100 KB Go allocation.
	if perOp := float64(after.TotalAlloc-before.TotalAlloc) / ops; perOp > 4096 {
		t.Fatalf("Go allocation per op = %.0f B, want < 4096 B", perOp)
	}
}

func TestResultBuffersAreFreed(t *testing.T) {
	x := ts.MustOnes([]int64{4}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	one := ts.FloatScalar(1)
	step := func(n int) {
		for i := 0; i < n; i++ {
			x.MustAddScalar(one, false).MustDrop()
		}
	}
	step(2000)
	heap0, rss0 := CHeapBytes(), RSSBytes()
	const ops = 100_000
	step(ops)
	heap, rss := CHeapBytes()-heap0, RSSBytes()-rss0
	t.Logf("after %d ops: C heap %+d B, RSS %+d B", ops, heap, rss)
	// Unpatched, every op leaks its malloc(0) result buffer: ~32 B, 3.2 MB here.
	if heap > 256<<10 {
		t.Fatalf("C heap grew %d B over %d ops, want < 256 KiB", heap, ops)
	}
}

func TestFourOutputOp(t *testing.T) {
	// linalg_lstsq writes four handles; unpatched they overflow a 24-byte
	// malloc(0) chunk and corrupt the heap.
	a := ts.MustOfSlice([]float64{1, 0, 0, 1, 1, 1}).MustView([]int64{3, 2}, true)
	b := ts.MustOfSlice([]float64{1, 2, 4}).MustView([]int64{3, 1}, true)
	defer a.MustDrop()
	defer b.MustDrop()
	// Least squares of x=1, y=2, x+y=4: x = 4/3, y = 7/3.
	want := []float64{4.0 / 3, 7.0 / 3}
	for i := 0; i < 3000; i++ {
		sol, res, rank, sv := a.MustLinalgLstsq(b, nil, "gelsd", false)
		got := sol.Float64Values()
		if rank.Int64Values()[0] != 2 || len(sv.Float64Values()) != 2 {
			t.Fatalf("iteration %d: rank %v, singular values %v", i, rank.Int64Values(), sv.Float64Values())
		}
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-9 {
				t.Fatalf("iteration %d: solution %v, want %v", i, got, want)
			}
		}
		for _, x := range []*ts.Tensor{sol, res, rank, sv} {
			x.MustDrop()
		}
	}
}

func TestInplaceOpReleasesStorage(t *testing.T) {
	one := ts.FloatScalar(1)
	heap0 := CHeapBytes()
	for i := 0; i < 8; i++ {
		x := ts.MustZeros([]int64{8 << 20}, gotch.Float, gotch.CPU) // 32 MiB
		x.MustAddScalar_(one)
		if got := x.MustSum(gotch.Double, false).Float64Values()[0]; got != 8<<20 {
			t.Fatalf("sum after in-place add = %v, want %v", got, 8<<20)
		}
		x.MustDrop()
	}
	// Unpatched, the orphaned handle pins each 32 MiB storage: 256 MiB.
	if grew := CHeapBytes() - heap0; grew > 16<<20 {
		t.Fatalf("C heap grew %d MiB after dropping in-place-modified tensors, want < 16 MiB", grew>>20)
	}
}

func TestClipGradNormReturns(t *testing.T) {
	vs := nn.NewVarStore(gotch.CPU)
	w := vs.Root().MustOnes("w", []int64{10})
	opt, err := nn.DefaultAdamWConfig().Build(vs, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	loss := w.MustMulScalar(ts.FloatScalar(3), false).MustSum(gotch.Float, true)
	loss.MustBackward()
	loss.MustDrop()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		done <- opt.ClipGradNorm(0.5)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		// Unpatched, ClipGradNorm takes the varstore mutex twice.
		t.Fatal("ClipGradNorm did not return within 20 s (deadlock)")
	}
	g := w.MustGrad(false)
	norm := g.MustNorm(false).Float64Values()[0]
	g.MustDrop()
	if math.Abs(norm-0.5) > 1e-3 {
		t.Fatalf("gradient norm after clipping = %v, want 0.5", norm)
	}
}

// BenchmarkOpOverhead measures one tiny gotch op end to end (cgo call,
// libtorch dispatch, Go bookkeeping, free): the per-op cost the Go loop adds.
func BenchmarkOpOverhead(b *testing.B) {
	x := ts.MustOnes([]int64{1}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	one := ts.FloatScalar(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x.MustAddScalar(one, false).MustDrop()
	}
}

// BenchmarkOpFloor is BenchmarkOpOverhead's op issued from C++ (libtorch's
// own dispatch, allocation and free): the difference between the two is what
// the binding adds.
func BenchmarkOpFloor(b *testing.B) {
	x := ts.MustOnes([]int64{1}, gotch.Float, gotch.CPU)
	defer x.MustDrop()
	b.ResetTimer()
	kernels.OpFloor(x, b.N)
}

// TestLibtorchErrorPanics checks that a libtorch exception reaches Go as a
// panic with an error wrapping *ts.TorchError, which a run recovers from. Unpatched,
// gotch's Must* functions call log.Fatal and the test process exits.
func TestLibtorchErrorPanics(t *testing.T) {
	// The error is read back by a second cgo call from a thread-local slot:
	// unlocked, a goroutine moved to another thread between the two (under
	// load, after a slow exception) sees no error and a garbage handle.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a := ts.MustOnes([]int64{2, 3}, gotch.Float, gotch.CPU)
	defer a.MustDrop()
	var got any
	func() {
		defer func() { got = recover() }()
		a.MustMatmul(a, false).MustDrop()
	}()
	var te *ts.TorchError
	if err, ok := got.(error); !ok || !errors.As(err, &te) {
		t.Fatalf("recovered %T %v, want an error wrapping *ts.TorchError", got, got)
	}
	if line := te.FirstLine(); !strings.Contains(line, "cannot be multiplied") || strings.Contains(line, "\n") {
		t.Fatalf("FirstLine() = %q, want libtorch's one-line message", line)
	}
}

// TestFailedForwardFreesItsTensors fails a forward pass half-way (a
// sequence one token longer than the learned position table) and checks
// that the tensors it had made are freed once the run lets go of them.
func TestFailedForwardFreesItsTensors(t *testing.T) {
	runtime.LockOSThread() // libtorch's error slot is per thread (TestLibtorchErrorPanics)
	defer runtime.UnlockOSThread()
	cfg := experiments.DefaultModelConfig()
	cfg.Core, cfg.Pos, cfg.Hidden, cfg.Heads, cfg.Layers = "transformer", "learned", 32, 2, 1
	m, err := New(cfg, Shape{Vocab: 6, SeqLen: 16}, Placement{Device: gotch.CPU}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Params.Drop()
	before := LiveTensors()
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Fatal("a 17-token input to a 16-position model did not fail")
			}
		}()
		x := ts.MustZeros([]int64{2, 17}, gotch.Int64, gotch.CPU)
		// Tensors only the failing function refers to, as a forward
		// pass's intermediates are: nothing drops them explicitly.
		_ = x.MustAddScalar(ts.IntScalar(1), false)
		carry := m.InitCarry(2)
		m.Segment(carry, x, nil, "full")
	}()
	ReleaseMemory()
	for i := 0; i < 50 && LiveTensors() > before; i++ {
		time.Sleep(20 * time.Millisecond) // finalizers run on their own goroutine
		ReleaseMemory()
	}
	if got := LiveTensors(); got > before {
		t.Fatalf("live tensors %d after the failed forward, want %d", got, before)
	}
}
