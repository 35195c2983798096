package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"outerloop/results"
)

// badInputError marks an error in what the user gave (flags, arguments,
// the grid file): exit code 2.
type badInputError struct{ err error }

func (e *badInputError) Error() string { return e.err.Error() }
func (e *badInputError) Unwrap() error { return e.err }

// badInput wraps err as bad input.
func badInput(err error) error { return &badInputError{err} }

// badInputf formats a bad-input error.
func badInputf(format string, args ...any) error { return badInput(fmt.Errorf(format, args...)) }

// newFlagSet returns a flag set that reports parse errors through Run's
// error rather than printing them itself.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments
// (`harness run grid.toml --jobs 2`), and returns the positional ones.
// --help calls usage and returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string, usage func()) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage()
				return nil, err
			}
			return nil, badInputf("%s: %v\nrun 'harness %s --help' for usage", fs.Name(), err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// printUsage writes a command's help: text, then its flags.
func printUsage(w io.Writer, fs *flag.FlagSet, text string) {
	fmt.Fprint(w, strings.TrimLeft(text, "\n"))
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// setFlags collects repeated --set key=value overrides.
type setFlags []string

func (s *setFlags) String() string { return strings.Join(*s, " ") }

func (s *setFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want key=value, like train.steps=200")
	}
	*s = append(*s, v)
	return nil
}

// openStore opens the results database, creating it on first use.
func openStore(ctx context.Context, path string, w io.Writer) (*results.Store, error) {
	if err := moveOldDefault(ctx, path, w); err != nil {
		return nil, err
	}
	return results.Open(ctx, path)
}

// openExistingStore opens a database that must already exist, for the
// commands that only read: a typo in --db should not create an empty file.
func openExistingStore(ctx context.Context, path string, w io.Writer) (*results.Store, error) {
	if err := moveOldDefault(ctx, path, w); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, badInputf("open results db: %v", err)
	}
	return results.Open(ctx, path)
}
