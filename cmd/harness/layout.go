package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"outerloop/results"
)

// Where results go by default. They used to go to results/, which is also
// the source folder of the results package: a `git clean` or a careless
// `rm -r results` lost one or the other, and a listing of the package
// showed databases and checkpoints. out/ holds only what runs produce —
// the database, runs/ (checkpoints), cache/ (datasets), reports/ — so it
// can be ignored, archived or deleted whole.
const (
	defaultDir    = "out"
	defaultDB     = defaultDir + "/outerloop.db"
	oldDefaultDir = "results"
)

// movedFolders are the folders beside a database that the default layout
// derives from its place; they move with it.
var movedFolders = []string{"runs", "cache", "reports"}

// moveOldDefault moves databases and their folders from the old default
// place (results/) to out/ when the command uses the default --db, the new
// place has no database yet and the old one has. It is a no-op otherwise,
// and leaves everything where it is (with a note) if a run in an old
// database is running or Slurm submissions there point at it.
func moveOldDefault(ctx context.Context, db string, w io.Writer) error {
	if db != defaultDB || exists(defaultDB) || !exists(filepath.Join(oldDefaultDir, "outerloop.db")) {
		return nil
	}
	if exists(filepath.Join(oldDefaultDir, "slurm")) {
		fmt.Fprintf(w, "harness: note: %s/ holds Slurm submissions whose run lists name it; not moving it to %s/ (pass --db %s/outerloop.db)\n",
			oldDefaultDir, defaultDir, oldDefaultDir)
		return nil
	}
	dbs, err := filepath.Glob(filepath.Join(oldDefaultDir, "*.db"))
	if err != nil {
		return fmt.Errorf("move %s/ to %s/: %w", oldDefaultDir, defaultDir, err)
	}
	for _, from := range dbs {
		to := filepath.Join(defaultDir, filepath.Base(from))
		if err := results.Relocate(ctx, from, to); err != nil {
			if errors.Is(err, results.ErrInUse) {
				fmt.Fprintf(w, "harness: note: not moving %s/ to %s/ yet: %v\n", oldDefaultDir, defaultDir, err)
				return nil
			}
			return err
		}
	}
	for _, name := range movedFolders {
		from, to := filepath.Join(oldDefaultDir, name), filepath.Join(defaultDir, name)
		if !exists(from) || exists(to) {
			continue
		}
		if err := os.Rename(from, to); err != nil {
			return fmt.Errorf("move %s to %s: %w", from, to, err)
		}
	}
	fmt.Fprintf(w, "harness: moved the results database and its runs/, cache/ and reports/ from %s/ to %s/ (the new default place; %s/ is a source folder)\n",
		oldDefaultDir, defaultDir, oldDefaultDir)
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
