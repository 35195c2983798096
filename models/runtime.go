package models

// #include <malloc.h>
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/rt"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
)

// The libtorch process state a run touches. Grad mode and the error slot are
// thread-local in libtorch, so every goroutine that drives it must call
// runtime.LockOSThread first (docs/dependencies.md, "Threads"); train does.

// SetThreads sets libtorch's intra-op thread count for the calling OS
// thread, which the harness gives each run (docs/libtorch.md, "Threads").
// The count is per thread, with one catch: a thread's first parallel op
// lazily adopts the count set last anywhere in the process, overwriting
// what the thread set before. Reading the count first does that lazy step
// now, so the value set here stays this thread's
// (TestThreadBudgetIsPerThread).
func SetThreads(n int) {
	if n > 0 {
		rt.NumThreads()
		rt.SetNumThreads(n)
	}
}

// Threads returns libtorch's intra-op thread count on the calling thread.
func Threads() int { return rt.NumThreads() }

// LiveTensors is the number of Go tensor handles not yet freed; a training
// step that leaks nothing leaves it unchanged.
func LiveTensors() int { return ts.LiveTensors() }

// NoGrad runs fn with autograd disabled and restores the previous mode even
// if fn panics (gotch's ts.NoGrad does neither).
func NoGrad(fn func()) {
	prev := rt.SetGradEnabled(false)
	defer rt.SetGradEnabled(prev)
	fn()
}

// Libtorch describes the libtorch this process loaded, for run provenance
// and `harness version`. Every value is asked of the loaded libraries at run
// time (the gotch rt package), not taken from what setup configured, so a
// binary run against another libtorch than it was built for says so.
func Libtorch() map[string]string {
	abi := "unknown"
	if a := rt.CXX11ABI(); a >= 0 {
		abi = fmt.Sprintf("_GLIBCXX_USE_CXX11_ABI=%d", a)
	}
	cudaVersion := rt.CUDAVersion()
	linked := cudaVersion != ""
	if !linked {
		cudaVersion = "none"
	}
	return map[string]string{
		"libtorch_version": rt.Version(),
		"libtorch_abi":     abi,
		"libtorch_cuda":    strconv.FormatBool(linked),
		"libtorch_path":    rt.Path(),
		"cuda_version":     cudaVersion,
		"gpu":              gpuModels(rt.CUDADevices()),
	}
}

// gpuModels names the visible GPUs: "none", "NVIDIA H200", "4 × NVIDIA
// H200", or the names joined by ", " when they differ.
func gpuModels(names []string) string {
	switch {
	case len(names) == 0:
		return "none"
	case len(names) == 1:
		return names[0]
	}
	for _, n := range names[1:] {
		if n != names[0] {
			return strings.Join(names, ", ")
		}
	}
	return fmt.Sprintf("%d × %s", len(names), names[0])
}

// CUDALinked reports whether this process loaded libtorch_cuda.
func CUDALinked() bool { return rt.CUDAVersion() != "" }

// ParseDevice turns "cpu", "cuda" or "cuda:N" into a device, failing with a
// clear message when CUDA is asked for but this libtorch cannot provide it.
func ParseDevice(d experiments.Device) (gotch.Device, error) {
	if d == "" || d == experiments.DeviceCPU {
		return gotch.CPU, nil
	}
	idx, ok := d.CUDAIndex()
	if !ok {
		return gotch.CPU, fmt.Errorf("device %q: want cpu, cuda or cuda:N with N ≥ 0", d)
	}
	if !CUDALinked() {
		return gotch.CPU, fmt.Errorf("device %q: this build links a CPU-only libtorch (%s); rerun `OUTERLOOP_CUDA=1 just setup` (or set LIBTORCH to a CUDA libtorch) and rebuild", d, rt.Path())
	}
	if !gotch.CUDA.IsAvailable() {
		return gotch.CPU, fmt.Errorf("device %q: libtorch was built with CUDA but sees no GPU (driver missing or CUDA_VISIBLE_DEVICES empty)", d)
	}
	if n := int(gotch.CUDA.DeviceCount()); idx >= n {
		return gotch.CPU, fmt.Errorf("device %q: only %d CUDA device(s) visible", d, n)
	}
	return gotch.CudaBuilder(uint(idx)), nil
}

// CHeapBytes is the C heap in use (glibc mallinfo2: arena plus mmapped
// chunks); libtorch's CPU tensors live there, so leaks show up here exactly,
// without the noise of RSS.
func CHeapBytes() int64 {
	mi := C.mallinfo2()
	return int64(mi.uordblks) + int64(mi.hblkhd)
}

// ReleaseMemory hands the memory a finished run freed back to the
// operating system. libtorch's CPU tensors come from glibc malloc, which
// keeps freed pages in its per-thread arenas; every run trains on an OS
// thread of its own, so without a trim a long grid's RSS climbed by ~7 MiB
// a run (154 → 283 MiB over 20 small runs) while the heap in use stayed
// flat at 41 MiB. A collection first lets finalizers free any tensors a
// failed run left unreachable.
func ReleaseMemory() {
	runtime.GC()
	C.malloc_trim(0)
}

// RSSBytes is the resident set size of this process.
func RSSBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
