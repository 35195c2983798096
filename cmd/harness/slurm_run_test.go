package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSlurmCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1]", 10)
	db := filepath.Join(dir, "r.db")
	t.Setenv("PATH", t.TempDir()) // no Slurm commands here
	tests := []struct {
		args       []string
		want       int
		wantStderr string
	}{
		{[]string{"run", "--executor", "pbs", grid}, exitBadInput, `--executor "pbs"`},
		{[]string{"run", "--partition", "gpu", grid}, exitBadInput, "--partition: only with --executor slurm"},
		{[]string{"run", "--wait", "--time", "1:00", grid}, exitBadInput, "--time, --wait: only with --executor slurm"},
		{[]string{"run", "--executor", "slurm", "--jobs", "2", grid}, exitBadInput, "--jobs: not for --executor slurm"},
		{[]string{"run", "--executor", "slurm", "--cpus-per-task", "0", grid}, exitBadInput, "--cpus-per-task"},
		{[]string{"run", "--executor", "slurm", "--db", db, grid}, exitFailed, "slurm commands not found"},
		{[]string{"run-one", "--list", "runs.json"}, exitBadInput, "want --list, --index ≥ 0 and --shard"},
		{[]string{"run-one", "--list", filepath.Join(dir, "none.json"), "--index", "0", "--shard", filepath.Join(dir, "s.db")}, exitFailed, "read run list"},
		{[]string{"slurm"}, exitBadInput, "want a command"},
		{[]string{"slurm", "gather"}, exitBadInput, `unknown command "gather"`},
		{[]string{"slurm", "collect", "--db", db, "12_3"}, exitBadInput, `"12_3" is not a job id`},
		{[]string{"slurm", "collect", "--db", filepath.Join(dir, "none.db")}, exitBadInput, "none.db"},
	}
	for _, tc := range tests {
		code, _, stderr := cli(tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.wantStderr) {
			t.Fatalf("harness %s: code %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.want, tc.wantStderr)
		}
	}
}

func TestSlurmHelp(t *testing.T) {
	for _, args := range [][]string{{"slurm", "--help"}, {"slurm", "collect", "--help"}, {"run-one", "--help"}} {
		code, out, _ := cli(args...)
		if code != exitOK || !strings.Contains(out, "Usage: harness "+strings.Join(args[:len(args)-1], " ")) || !strings.Contains(out, "Examples:") {
			t.Fatalf("harness %s: code %d\n%s\nwant 0, usage and examples", strings.Join(args, " "), code, out)
		}
	}
}
