package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// SlurmCommand groups the commands about Slurm arrays.
type SlurmCommand struct {
	stdout io.Writer
}

// slurmCommands are the subcommands of `harness slurm`.
var slurmCommands = []struct {
	name, summary string
	new           func(stdout io.Writer) command
}{
	{"collect", "merge the shards of ended array tasks into the main database", func(o io.Writer) command { return &SlurmCollectCommand{stdout: o, stderr: o} }},
}

// Usage prints the help.
func (c *SlurmCommand) Usage() {
	fmt.Fprint(c.stdout, strings.TrimLeft(`
Usage: harness slurm <command> [flags] [arguments]

Commands for grids submitted with 'harness run --executor slurm'
(docs/cluster.md). Submitting is 'harness run'; where runs stand is
'harness ls GRID', which asks squeue and reads ended tasks' shards.

Commands:
`, "\n"))
	for _, s := range slurmCommands {
		fmt.Fprintf(c.stdout, "  %-8s %s\n", s.name, s.summary)
	}
	fmt.Fprint(c.stdout, `
Examples:
  harness slurm collect 4242
  harness slurm collect --db /shared/me/outer.db
`)
}

// Run dispatches to the subcommand.
func (c *SlurmCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		c.Usage()
		if len(args) == 0 {
			return badInputf("slurm: want a command")
		}
		return nil
	}
	for _, s := range slurmCommands {
		if s.name == args[0] {
			return s.new(c.stdout).Run(ctx, args[1:])
		}
	}
	return badInputf("slurm: unknown command %q; run 'harness slurm --help' for the list", args[0])
}
