package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkSharedHost trains the demo grid three ways on this machine and
// prints the wall times: one process with --jobs 2; two processes with
// --jobs 1 each on one database (they must share the cores, not fight over
// them); one process next to a CPU hog pinned to core 0; and one process
// with OpenMP's active (spinning) wait, which the harness leaves alone when
// the user sets it, to price the passive policy it sets otherwise. `just
// bench-threads` runs it; it takes a few minutes and prints numbers rather
// than failing on them.
func BenchmarkSharedHost(b *testing.B) {
	bin, err := buildHarness()
	if err != nil {
		b.Fatal(err)
	}
	grid, err := filepath.Abs("../../ablations/demo.toml")
	if err != nil {
		b.Fatal(err)
	}
	run := func(name string, procs, jobs int, hog bool, env ...string) time.Duration {
		dir := b.TempDir()
		db := filepath.Join(dir, "demo.db")
		if hog {
			h := exec.Command("taskset", "-c", "0", "sh", "-c", "while :; do :; done")
			if err := h.Start(); err != nil {
				b.Skipf("no taskset to pin a CPU hog: %v", err)
			}
			defer func() { h.Process.Kill(); h.Wait() }()
		}
		start := time.Now()
		var cmds []*exec.Cmd
		for i := 0; i < procs; i++ {
			c := exec.Command(bin, "run", "--jobs", fmt.Sprint(jobs), "--progress", "off", "--db", db, grid)
			c.Env = append(append(os.Environ(), threadPoolVar+"="+filepath.Join(dir, "threads")), env...)
			if err := c.Start(); err != nil {
				b.Fatal(err)
			}
			cmds = append(cmds, c)
		}
		for _, c := range cmds {
			if err := c.Wait(); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
		}
		took := time.Since(start)
		fmt.Printf("shared-host %-36s %6.1f s\n", name, took.Seconds())
		return took
	}
	for i := 0; i < b.N; i++ {
		one := run("one process, --jobs 2", 1, 2, false)
		two := run("two processes, --jobs 1 each", 2, 1, false)
		hog := run("one process --jobs 2, CPU hog on core 0", 1, 2, true)
		active := run("one process --jobs 2, OMP_WAIT_POLICY=ACTIVE", 1, 2, false, waitPolicyVar+"=ACTIVE")
		fmt.Printf("shared-host two-process / one-process = %.2f (target ≤ 1.2); slowdown next to a hog = %.2f; passive / active wait, one process = %.2f\n",
			two.Seconds()/one.Seconds(), hog.Seconds()/one.Seconds(), one.Seconds()/active.Seconds())
	}
}
