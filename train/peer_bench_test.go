package train

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/models"
)

// peerWorkloads are the training steps bench/peer/run.py compares with its
// PyTorch implementation (bench/peer/peer.py): one optimiser step is one
// segment of a carried batch of 64, at the two CPU sizes and one paper
// size. The PyTorch side reads the resolved RunSpec this benchmark writes,
// so both train the same configuration.
var peerWorkloads = map[string]func(*experiments.RunSpec){
	"transformer-d64-sudoku4":  peerSize(experiments.CoreTransformer, "attention", 64, 4),
	"trm-d64-sudoku4":          peerSize(experiments.CoreTRM, "attention", 64, 4),
	"trm-mlp-d64-sudoku4":      peerSize(experiments.CoreTRM, "mlp", 64, 4),
	"hrm-d64-sudoku4":          peerSize(experiments.CoreHRM, "attention", 64, 4),
	"transformer-d128-sudoku9": peerSize(experiments.CoreTransformer, "attention", 128, 9),
	"trm-d128-sudoku9":         peerSize(experiments.CoreTRM, "attention", 128, 9),
	"trm-mlp-d128-sudoku9":     peerSize(experiments.CoreTRM, "mlp", 128, 9),
	"hrm-d128-sudoku9":         peerSize(experiments.CoreHRM, "attention", 128, 9),
	"trm-att-paper-sudoku9": func(r *experiments.RunSpec) {
		peerSize(experiments.CoreTRM, "attention", 512, 9)(r)
		paperModel(&r.Model, "trm-att")
		r.Train.Batch = 8
	},
}

// peerSize is a 2-block model at width d on n×n Sudoku: TRM with T = n = 2
// (one 2-layer net), HRM with one H and one L block and 2 × 2 cycles, the
// transformer with 2 layers; RoPE, SwiGLU, stable-max loss, Q halting,
// AdamW β 0.9/0.95 and the last-cycle gradient, the defaults.
func peerSize(core experiments.Core, mixer experiments.Mixer, d, n int) func(*experiments.RunSpec) {
	return func(r *experiments.RunSpec) {
		*r = experiments.DefaultRunSpec()
		r.Task.Size, r.Task.Train, r.Task.Test = n, 256, 16
		r.Model.Core, r.Model.Mixer, r.Model.Hidden, r.Model.Heads, r.Model.Pos = core, mixer, d, 4, "rope"
		r.Model.Layers, r.Model.HLayers, r.Model.LLayers = 2, 1, 1
		r.Model.HCycles, r.Model.LCycles = 2, 2
		r.Train.Batch, r.Train.Loops = 64, 4
	}
}

// BenchmarkPeer times OUTERLOOP_PEER_WORKLOAD at OUTERLOOP_PEER_THREADS
// libtorch threads (default 1) and, with OUTERLOOP_PEER_SPEC set, writes
// the run's resolved configuration and parameter count there for the
// PyTorch side. It prints one "peer-outerloop" line with ms/step and the
// process's peak RSS, so run it one workload per process.
func BenchmarkPeer(b *testing.B) {
	name := os.Getenv("OUTERLOOP_PEER_WORKLOAD")
	mod, ok := peerWorkloads[name]
	if !ok {
		names := slices.Sorted(maps.Keys(peerWorkloads))
		fmt.Printf("peer-workloads %s\n", strings.Join(names, " "))
		b.Skipf("OUTERLOOP_PEER_WORKLOAD=%q is not one of the peer workloads (bench/peer/run.py sets it)", name)
	}
	threads := 1
	if s := os.Getenv("OUTERLOOP_PEER_THREADS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("OUTERLOOP_PEER_THREADS=%q: want a positive integer", s)
		}
		threads = n
	}
	lockThread()
	models.SetThreads(threads)
	r := smallRun(mod)
	e := engineFor(b, r)
	if path := os.Getenv("OUTERLOOP_PEER_SPEC"); path != "" {
		out, err := json.Marshal(struct {
			Spec   experiments.RunSpec `json:"spec"`
			Params int64               `json:"params"`
			Vocab  int                 `json:"vocab"`
			SeqLen int                 `json:"seq_len"`
		}{r, int64(e.model.Count()), e.data.Vocab, e.data.SeqLen})
		if err == nil {
			err = os.WriteFile(path, out, 0o644)
		}
		if err != nil {
			b.Fatalf("write %s: %v", path, err)
		}
	}
	steps := 20
	if r.Model.Hidden >= 512 {
		steps = 3
	}
	for i := 0; i < 3; i++ { // warm-up: allocator pools, lazy init
		e.trainStep(1e-4)
	}
	start := time.Now()
	for i := 0; i < b.N*steps; i++ {
		e.trainStep(1e-4)
	}
	ms := 1000 * time.Since(start).Seconds() / float64(b.N*steps)
	b.ReportMetric(ms, "ms/step")
	fmt.Printf("peer-outerloop workload=%s threads=%d ms_per_step=%.3f peak_rss_mb=%.1f params=%d libtorch=%s\n",
		name, threads, ms, peakRSSMiB(), e.model.Count(), models.Libtorch()["libtorch_version"])
}

// peakRSSMiB is the process's high-water resident set (VmHWM), which is
// what /usr/bin/time and the PyTorch side report.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
