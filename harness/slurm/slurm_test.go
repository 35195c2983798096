package slurm

import (
	"maps"
	"strings"
	"testing"
)

func TestParseElementStates(t *testing.T) {
	tests := []struct {
		name, out string
		want      map[element]string
	}{
		{"squeue", "12|0|RUNNING\n12|3|PENDING\n", map[element]string{{"12", 0}: "RUNNING", {"12", 3}: "PENDING"}},
		{"sacct", "12_0|COMPLETED|0:0\n12_1|CANCELLED by 0|0:15\n12_2|OUT_OF_MEMORY|0:125\n",
			map[element]string{{"12", 0}: "COMPLETED", {"12", 1}: "CANCELLED", {"12", 2}: "OUT_OF_MEMORY"}},
		{"compressed range and junk skipped", "12_[4-7%2]|PENDING|0:0\n\nsqueue: error: x\n12|x|RUNNING\n", map[element]string{}},
		{"empty", "", map[element]string{}},
	}
	for _, tc := range tests {
		if got := parseElementStates(tc.out); !maps.Equal(got, tc.want) {
			t.Fatalf("%s: parseElementStates=%v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestBatchScript(t *testing.T) {
	list := &RunList{Grid: ListGrid{Name: "outer-loop"}, DB: "/shared/r/outerloop.db", RunsDir: "/shared/r/runs",
		Runs: make([]ListedRun, 6)}
	base := Options{CPUsPerTask: 8, Harness: "/shared/bin/harness", WorkDir: "/shared/work"}
	tests := []struct {
		name        string
		opts        func(*Options)
		gpus        int
		want, avoid []string
	}{
		{"defaults", func(*Options) {}, 0,
			[]string{"#!/bin/bash\n", "#SBATCH --array=0-5\n", "#SBATCH --cpus-per-task=8\n", "#SBATCH --requeue\n",
				"#SBATCH --signal=B:USR1@60\n", "#SBATCH --output=/s/d/log-%A-%a.out\n", "#SBATCH --chdir=/shared/work\n",
				"exec /shared/bin/harness run-one --requeue --list /s/d/runs.json --index \"$SLURM_ARRAY_TASK_ID\"",
				`--shard /s/d/"shard-${SLURM_ARRAY_JOB_ID}-${SLURM_ARRAY_TASK_ID}.db"`},
			[]string{"--gpus-per-task", "--partition", "--time"}},
		{"everything", func(o *Options) {
			o.Partition, o.Time, o.ArrayParallelism = "gpu", "4:00:00", 2
			o.SbatchArgs = []string{"--account=lab", "--signal=B:USR1@300"}
		}, 2,
			[]string{"#SBATCH --array=0-5%2\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=4:00:00\n",
				"#SBATCH --gpus-per-task=2\n", "#SBATCH --account=lab\n"}, nil},
		{"odd binary path quoted", func(o *Options) { o.Harness = "/home/me/my bin/harness" }, 0,
			[]string{"exec '/home/me/my bin/harness' run-one"}, nil},
	}
	for _, tc := range tests {
		o := base
		tc.opts(&o)
		got := BatchScript(o, list, "/s/d", tc.gpus)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Fatalf("%s: script lacks %q:\n%s", tc.name, w, got)
			}
		}
		for _, a := range tc.avoid {
			if strings.Contains(got, a) {
				t.Fatalf("%s: script has %q:\n%s", tc.name, a, got)
			}
		}
	}
	// Extra sbatch options come after the harness's own, so they win.
	o := base
	o.SbatchArgs = []string{"--signal=B:USR1@300"}
	got := BatchScript(o, list, "/s/d", 0)
	if strings.Index(got, "@300") < strings.Index(got, "@60") {
		t.Fatalf("--sbatch-arg comes before the harness's own options:\n%s", got)
	}
}

func TestGPUsFor(t *testing.T) {
	tests := []struct {
		gpusPerRun int
		cuda       bool
		want       int
	}{
		{0, false, 0}, {0, true, 1}, {2, true, 2}, {2, false, 2},
	}
	for _, tc := range tests {
		if got := gpusFor(Options{GPUsPerRun: tc.gpusPerRun}, tc.cuda); got != tc.want {
			t.Fatalf("gpusFor(--gpus-per-run %d, cuda %v)=%d, want %d", tc.gpusPerRun, tc.cuda, got, tc.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/shared/bin/harness", "/shared/bin/harness"},
		{"/a b/c", "'/a b/c'"},
		{"it's", `'it'\''s'`},
		{"", "''"},
	}
	for _, tc := range tests {
		if got := shellQuote(tc.in); got != tc.want {
			t.Fatalf("shellQuote(%q)=%s, want %s", tc.in, got, tc.want)
		}
	}
}
