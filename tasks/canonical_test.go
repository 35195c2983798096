package tasks

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"outerloop/experiments"
)

// TestSudokuCanonicalIsInvariant: a puzzle and any augmentation of it share
// one canonical form, for every Sudoku size.
func TestSudokuCanonicalIsInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{4, 6} { // 9×9 has 3.4 million shuffles per puzzle: too slow here
		for i := 0; i < 5; i++ {
			p, err := GenerateSudoku(rng, n, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			want, err := SudokuCanonical(p.Puzzle)
			if err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 5; j++ {
				tr, _ := RandomSudokuTransform(rng, n)
				if got, _ := SudokuCanonical(tr.Apply(p.Puzzle)); got != want {
					t.Fatalf("%d×%d: an augmentation changed the canonical form", n, n)
				}
			}
		}
	}
}

// TestSudokuCanonicalCountsClasses: minimal 4×4 puzzles come in few
// classes up to symmetry (which is why 4×4 cannot test generalisation),
// and the canonical form tells them apart.
func TestSudokuCanonicalCountsClasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	classes := map[string]bool{}
	for i := 0; i < 2000; i++ {
		p, err := GenerateSudoku(rng, 4, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := SudokuCanonical(p.Puzzle)
		classes[c] = true
	}
	if n := len(classes); n < 2 || n > 60 {
		t.Fatalf("2,000 minimal 4×4 puzzles fall in %d classes up to symmetry, want a few dozen", n)
	}
	t.Logf("2,000 minimal 4×4 puzzles: %d classes up to symmetry", len(classes))
}

func TestMazeCanonicalIsInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	p, err := GenerateMaze(rng, 9, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := MazeCanonical(p.Maze)
	for d := Dihedral(0); d < NumDihedral; d++ {
		if got := MazeCanonical(d.Apply(p.Maze)); got != want {
			t.Fatalf("%v changed the maze's canonical form", d)
		}
	}
}

// TestSudokuSplitsDisjointUpToSymmetry: with task.distinct = "symmetry",
// as ablations/outer-loop.toml asks, no test puzzle is an augmentation of
// a training puzzle (nor of another test puzzle). It would fail if the
// generator deduplicated exact copies only.
func TestSudokuSplitsDisjointUpToSymmetry(t *testing.T) {
	// 6×6 with 15 givens is what the grid trains on; more givens leave more
	// puzzles per solution grid that are one another's relabellings.
	for _, tc := range []struct{ n, train, test, givens int }{{4, 20, 10, 0}, {6, 400, 100, 0}, {6, 400, 100, 15}} {
		train, test, err := generateSudokus(tc.n, tc.train, tc.test, tc.givens, 0, 7, experiments.DistinctSymmetry)
		if err != nil {
			t.Fatalf("%d×%d: %v", tc.n, tc.n, err)
		}
		seen := map[string]string{}
		for i, p := range append(train, test...) {
			c, err := SudokuCanonical(p.Puzzle)
			if err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("puzzle %d", i)
			if prev, dup := seen[c]; dup {
				t.Fatalf("%d×%d: %s is an augmentation of %s", tc.n, tc.n, where, prev)
			}
			seen[c] = where
		}
		if len(train) != tc.train || len(test) != tc.test {
			t.Fatalf("%d×%d: got %d train, %d test", tc.n, tc.n, len(train), len(test))
		}
	}
}
