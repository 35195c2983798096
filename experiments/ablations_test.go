package experiments

import (
	"io/fs"
	"path/filepath"
	"testing"
)

// shippedGrids returns every grid file under ablations/, bases included,
// in lexical order.
func shippedGrids(tb testing.TB) []string {
	tb.Helper()
	var grids []string
	err := filepath.WalkDir("../ablations", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".toml" {
			grids = append(grids, path)
		}
		return err
	})
	if err != nil {
		tb.Fatalf("walk ablations/: %v", err)
	}
	if len(grids) < 17 {
		tb.Fatalf("found %d grids in ablations/, want the 7 CPU grids, the demo and the 9 paper grids", len(grids))
	}
	return grids
}

// TestShippedGridsLoad keeps every grid in ablations/ valid: each loads,
// expands and passes its claims' checks, as `harness plan` requires.
func TestShippedGridsLoad(t *testing.T) {
	for _, path := range shippedGrids(t) {
		g, err := Load(path, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		runs, err := g.Expand()
		if err != nil || len(runs) == 0 {
			t.Fatalf("%s: %d runs, %v", path, len(runs), err)
		}
	}
}
