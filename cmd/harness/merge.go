package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"outerloop/results"
)

// MergeCommand folds shard databases into one.
type MergeCommand struct {
	stdout io.Writer

	out string
}

func (c *MergeCommand) flags() *flag.FlagSet {
	fs := newFlagSet("merge")
	fs.StringVar(&c.out, "o", "", "database to merge into (created if missing; required)")
	return fs
}

// Usage prints the help.
func (c *MergeCommand) Usage() {
	printUsage(c.stdout, c.flags(), `
Usage: harness merge [flags] SHARD.db... -o MAIN.db

Merge folds result databases — shards written by array jobs or other
machines — into MAIN.db. For each run the copy that got furthest wins
whole, with its metrics, evaluations and artifacts (done beats failed beats
interrupted beats running beats pending; on a tie MAIN.db's copy stays),
because stitching two attempts' curves together would show a run nobody
trained. Grids and provenance are unioned. Merging the same shards again
changes nothing. Shards written by an older harness are upgraded first.

Examples:
  harness merge shards/*.db -o out/outerloop.db
  harness merge node1.db node2.db -o merged.db && harness ls --db merged.db
`)
}

// Run merges.
func (c *MergeCommand) Run(ctx context.Context, args []string) error {
	srcs, err := parseFlags(c.flags(), args, c.Usage)
	if err != nil {
		return err
	}
	if c.out == "" || len(srcs) == 0 {
		return badInputf("merge: want shard databases and -o MAIN.db\nrun 'harness merge --help' for usage")
	}
	for _, src := range srcs {
		if _, err := openExistingStore(ctx, src, io.Discard); err != nil {
			return err
		}
	}
	dst, err := results.Open(ctx, c.out)
	if err != nil {
		return err
	}
	defer dst.Close()
	stats, err := dst.Merge(ctx, srcs...)
	for _, st := range stats {
		fmt.Fprintf(c.stdout, "%s: %d runs added, %d updated, %d kept\n", st.Source, st.Added, st.Updated, st.Kept)
	}
	return err
}
