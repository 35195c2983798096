package experiments

import (
	"path/filepath"
	"testing"
)

// TestShippedGridsLoad keeps every grid in ablations/ valid: each loads,
// expands and passes its claims' checks, as `harness plan` requires.
func TestShippedGridsLoad(t *testing.T) {
	grids, _ := filepath.Glob("../ablations/*.toml")
	paper, _ := filepath.Glob("../ablations/paper/*.toml")
	grids = append(grids, paper...)
	if len(grids) < 13 {
		t.Fatalf("found %d grids in ablations/, want the 4 CPU grids, the demo and 9 paper grids", len(grids))
	}
	for _, path := range grids {
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
