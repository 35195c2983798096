package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/results"
)

// TestOldDefaultDatabaseMoves checks that a database in the old default
// place, results/, moves to out/ with its run folders the first time a
// command uses the default --db, and that its runs are all there after.
func TestOldDefaultDatabaseMoves(t *testing.T) {
	dir := t.TempDir()
	grid := writeGrid(t, dir, "[1, 2]", 20)
	old := filepath.Join(dir, oldDefaultDir)
	if err := os.MkdirAll(old, 0o755); err != nil {
		t.Fatal(err)
	}
	trainedDB(t, old, grid) // results/results.db, with results/runs/<id>/
	if err := os.Rename(filepath.Join(old, "results.db"), filepath.Join(old, "outerloop.db")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	code, out, stderr := cli("ls", "cli")
	if code != exitOK || strings.Count(out, " done ") != 2 || !strings.Contains(stderr, "moved the results database") {
		t.Fatalf("ls with the default --db: code %d\n%s\n%s\nwant the 4 runs read from the moved database, and a note", code, out, stderr)
	}
	if exists(filepath.Join(oldDefaultDir, "outerloop.db")) || !exists(defaultDB) {
		t.Fatalf("the database was not moved from %s to %s", oldDefaultDir, defaultDB)
	}
	runs, _ := os.ReadDir(filepath.Join(defaultDir, "runs"))
	if len(runs) != 4 || exists(filepath.Join(oldDefaultDir, "runs")) {
		t.Fatalf("%s/runs holds %d run folders, want the 4 moved from %s/runs", defaultDir, len(runs), oldDefaultDir)
	}
	// Moving happens once: a second command finds out/ and leaves results/ be.
	if code, _, stderr := cli("ls"); code != exitOK || strings.Contains(stderr, "moved") {
		t.Fatalf("second ls: code %d, %q", code, stderr)
	}
}

// TestOldDefaultDatabaseInUseStays checks that a database with a running
// run is not moved (a process may have it open).
func TestOldDefaultDatabaseInUseStays(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ctx := context.Background()
	path := filepath.Join(oldDefaultDir, "outerloop.db")
	s, err := results.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Plan(ctx, results.Grid{Name: "g"}, []results.NewRun{{ID: "ab", Config: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "someone", []string{"ab"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Close()
	code, _, stderr := cli("ls", "g")
	if code == exitOK || !strings.Contains(stderr, "not moving") || !exists(path) || exists(defaultDB) {
		t.Fatalf("ls: code %d, stderr %q; want the database left in place with a note", code, stderr)
	}
}
