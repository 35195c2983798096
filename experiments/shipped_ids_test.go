package experiments

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const shippedIDsGolden = "testdata/shipped-run-ids.golden"

// TestShippedRunIDs pins the id of every run of every shipped grid: results
// already in a database are found again only while the canonical JSON, and
// so the id, stays byte for byte the same across refactors of the config
// types.
func TestShippedRunIDs(t *testing.T) {
	var b strings.Builder
	for _, path := range shippedGrids(t) {
		g, err := Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		runs, err := g.Expand()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range runs {
			data, err := r.CanonicalJSON()
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			sum := sha256.Sum256(data)
			if id := hex.EncodeToString(sum[:]); id != r.ID {
				t.Errorf("%s: run id %s is not the sha256 %s of its canonical JSON", path, r.ID, id)
			}
			fmt.Fprintf(&b, "%s %s\n", strings.TrimPrefix(filepath.ToSlash(path), "../"), r.ID)
		}
	}
	got := b.String()
	if *update {
		if err := os.WriteFile(shippedIDsGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(shippedIDsGolden)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gotLines), len(wantLines)) {
			g, w := lineAt(gotLines, i), lineAt(wantLines, i)
			if g != w {
				t.Fatalf("%s line %d: got %q, want %q; a changed id orphans stored results (run go test -update only if the change is intended)", shippedIDsGolden, i+1, g, w)
			}
		}
	}
}

// lineAt returns lines[i], or "" past the end.
func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}
