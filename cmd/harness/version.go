package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sort"

	"outerloop/harness"
	"outerloop/results"
)

// VersionCommand prints versions.
type VersionCommand struct {
	stdout io.Writer
}

// Usage prints the help.
func (c *VersionCommand) Usage() {
	printUsage(c.stdout, newFlagSet("version"), `
Usage: harness version

Version prints the harness build (module version and commit when the build
recorded them), the Go version, the results schema version this binary
writes, and what the training engine reports about the libtorch it loaded:
version, C++ ABI, path, CUDA version and GPU model ("none" without them).

Example:
  harness version
`)
}

// Run prints the versions.
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	pos, err := parseFlags(newFlagSet("version"), args, c.Usage)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return badInputf("version: takes no arguments")
	}
	version, commit := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = " " + s.Value
			}
		}
	}
	fmt.Fprintf(c.stdout, "harness %s%s\n", version, commit)
	fmt.Fprintf(c.stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(c.stdout, "results schema v%d\n", results.LatestSchemaVersion())
	cores := harness.UsableCores()
	fmt.Fprintf(c.stdout, "cores %d (limited by %s)\n", cores.N, cores.Limit)
	fmt.Fprintf(c.stdout, "openmp wait policy %s\n", waitPolicy())
	trainer, err := newTrainer()
	if err != nil {
		fmt.Fprintf(c.stdout, "training engine: %v\n", err)
		return nil
	}
	info := trainer.Info()
	keys := make([]string, 0, len(info))
	for k := range info {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(c.stdout, "%s %s\n", k, info[k])
	}
	return nil
}
