// Command harness trains ablation grids of recursive reasoning models and
// records every run in a SQLite results database. Run `harness --help` for
// the commands; each has its own --help with examples.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"outerloop/harness"
)

// command is one subcommand: one file and one struct each, in the manner
// of litestream. Run returns errors; only main turns them into exit codes.
type command interface {
	Run(ctx context.Context, args []string) error
	Usage()
}

// commands lists the subcommands in the order help shows them. `report`
// and `run-one` are registered here by the packages that provide them.
var commands = []struct {
	name, summary string
	new           func(stdout, stderr io.Writer) command
}{
	{"run", "train a grid's runs; rerun to resume", func(o, e io.Writer) command { return &RunCommand{stdout: o, stderr: e} }},
	{"plan", "show a grid's runs and their status without training", func(o, e io.Writer) command { return &PlanCommand{stdout: o, stderr: e} }},
	{"ls", "list grids, or the runs of one grid", func(o, e io.Writer) command { return &LsCommand{stdout: o, stderr: e} }},
	{"show", "show one run: config, provenance, final metrics", func(o, e io.Writer) command { return &ShowCommand{stdout: o, stderr: e} }},
	{"report", "write a grid's HTML report and print its claim verdicts", func(o, e io.Writer) command { return &ReportCommand{stdout: o, stderr: e} }},
	{"serve", "serve a live web UI over the results database (read-only)", func(o, e io.Writer) command { return &ServeCommand{stdout: o, stderr: e} }},
	{"export", "write runs, metrics and evals as CSV or JSON Lines, or an MLflow store", func(o, e io.Writer) command { return &ExportCommand{stdout: o, stderr: e} }},
	{"merge", "fold result databases (shards) into one", func(o, e io.Writer) command { return &MergeCommand{stdout: o} }},
	{"slurm", "Slurm arrays: collect their shards", func(o, e io.Writer) command { return &SlurmCommand{stdout: o} }},
	{"run-one", "train one task of a Slurm array (the batch script calls it)", func(o, e io.Writer) command { return &RunOneCommand{stdout: o, stderr: e} }},
	{"version", "print the versions of the harness and its training engine", func(o, e io.Writer) command { return &VersionCommand{stdout: o} }},
}

// Exit codes, documented in the help.
const (
	exitOK          = 0
	exitFailed      = 1
	exitBadInput    = 2
	exitInterrupted = 130
)

func main() {
	ensurePassiveWait()
	ctx, cancel := context.WithCancel(context.Background())
	// The first Ctrl-C (or Slurm's SIGTERM) cancels: running runs save,
	// flush and are marked interrupted. A second one exits at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		cancel() // `harness run` reports it through its progress display
		<-sigs
		fmt.Fprintln(os.Stderr, "harness: exiting at once; runs still marked running are taken over by the next `harness run`")
		os.Exit(exitInterrupted)
	}()
	os.Exit(dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the subcommand named by args[0] and returns the exit code.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(stdout)
		if len(args) == 0 {
			return exitBadInput
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return exitCode(c.new(stdout, stderr).Run(ctx, args[1:]), stderr)
		}
	}
	fmt.Fprintf(stderr, "harness: unknown command %q; run 'harness --help' for the list\n", args[0])
	return exitBadInput
}

// exitCode prints err (if any) and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	var bad *badInputError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &bad):
		// Grid errors are already one per line, naming file, line and key.
		fmt.Fprintln(stderr, bad.err)
		return exitBadInput
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "harness:", err)
		return exitInterrupted
	case errors.Is(err, harness.ErrRunsFailed):
		fmt.Fprintln(stderr, "harness:", err)
		return exitFailed
	}
	fmt.Fprintln(stderr, "harness:", err)
	return exitFailed
}

func usage(w io.Writer) {
	fmt.Fprint(w, `harness trains ablation grids of recursive reasoning models (HRM, TRM,
Universal Transformer, transformer) and records every run, metric and
evaluation in a SQLite results database.

Usage:
  harness <command> [flags] [arguments]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'harness <command> --help' for a command's flags and examples.

A typical session:
  harness plan ablations/outer-loop.toml          # what will run
  harness run --jobs 2 ablations/outer-loop.toml  # train; Ctrl-C and rerun to resume
  harness ls outer-loop                           # where each run stands

Exit codes:
  0    success
  1    some runs failed (or the command itself failed)
  2    bad input: flags, arguments or the grid file
  130  interrupted (Ctrl-C, SIGTERM, or SIGUSR1 in run-one); a second Ctrl-C exits at once
`)
}
