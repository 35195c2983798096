package tasks

import (
	"testing"

	"outerloop/experiments"
)

// TestEpochSteps checks the official step count on datasets small enough
// to count by hand; the expected values are Python's
// int(epochs * groups * (examples / puzzles) / batch).
func TestEpochSteps(t *testing.T) {
	rows := make([][2][]uint8, 1000)
	for i := range rows {
		rows[i] = [2][]uint8{make([]uint8, 16), make([]uint8, 16)}
	}
	sudoku := newTokenDataset("s", kindSudoku, 4, 6, rows, rows[:1], 1000, 0, 0)
	one := func(v uint8) Grid { return gridOf([]uint8{v}) }
	black := Pair{one(0), one(0)}
	// t1 is all black: its only variant is itself. t2 and e have 1 + 4.
	t1 := Task{ID: "t1", Train: []Pair{black, black}, Test: []Pair{black}}
	t2 := Task{ID: "t2", Train: []Pair{{one(1), one(2)}}, Test: []Pair{{one(3), one(3)}}}
	e := Seal(Task{ID: "e", Train: []Pair{{one(4), one(5)}, {one(5), one(4)}}, Test: []Pair{{one(6), one(7)}}})
	arc, err := NewARCDataset([]Task{t1, t2}, []EvalTask{e}, ARCOptions{Canvas: 2, Augment: 4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		d             *Dataset
		epochs, batch int
		want          int
	}{
		// HRM's Sudoku-Extreme 1k: 20000 epochs; TRM's: 50000.
		{"sudoku 1k, HRM", sudoku, 20000, 768, 26041},
		{"sudoku 1k, TRM", sudoku, 50000, 768, 65104},
		// 3 groups; 11 variants (1 + 5 + 5) holding 3·1 + 2·5 + 2·5 = 23
		// examples (e trains on its 2 demonstrations only).
		{"arc, uneven variants", arc, 100, 2, 313},
	}
	for _, tt := range tests {
		if got := tt.d.EpochSteps(tt.epochs, tt.batch); got != tt.want {
			t.Errorf("%s: EpochSteps(%d, %d) = %d, want %d", tt.name, tt.epochs, tt.batch, got, tt.want)
		}
	}
}

// TestEpochStepsARCAGI1 counts the steps of 100,000 epochs of ARC-AGI-1's
// training and evaluation sets with 1,000 augmentations, from the real
// tasks: 800 groups, 730,804 variants holding 2,811,803 examples (mean
// 3.85). The paper grids add ConceptARC, which is not available here; the
// numbers they state are in docs/models.md.
func TestEpochStepsARCAGI1(t *testing.T) {
	if testing.Short() {
		t.Skip("draws 1,000 variants of 800 tasks (~20 s)")
	}
	cfg := experiments.TaskConfig{Name: "arc", Source: arcAGI1(t), Subsets: []string{"training", "evaluation"}, Augment: 1000}
	d, err := Build(cfg, "", ".")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.EpochSteps(100000, 768), 400786; got != want {
		t.Fatalf("EpochSteps(100000, 768) = %d, want %d (%d groups, %d examples, %d puzzle ids)",
			got, want, d.Train.Puzzles(), d.Train.Len(), d.NumPuzzleIDs)
	}
}
