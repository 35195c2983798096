package tasks

import (
	"math/rand/v2"
	"outerloop/experiments"
	"strings"
	"testing"
)

// A well-known 9×9 puzzle and its unique solution.
const (
	classicPuzzle   = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
	classicSolution = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"
)

func mustSudoku(t testing.TB, s string) Sudoku {
	t.Helper()
	p, err := parseSudoku(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return p
}

func TestSolveSudoku(t *testing.T) {
	tests := []struct {
		name      string
		puzzle    string
		limit     int
		solutions int
	}{
		{"empty 4×4 has all 288 grids", strings.Repeat(".", 16), 1000, 288},
		{"limit caps the count", strings.Repeat(".", 16), 2, 2},
		{"classic 9×9 is unique", classicPuzzle, 2, 1},
		{"conflicting givens", "11" + strings.Repeat(".", 14), 2, 0},
		{"solved grid", classicSolution, 2, 1},
		// Relabelling digits maps the 288 grids onto each other 24 to 1,
		// so fixing the first row leaves 288/24.
		{"first row only", "1234" + strings.Repeat(".", 12), 100, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := SolveSudoku(mustSudoku(t, tt.puzzle), tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if res.Solutions != tt.solutions {
				t.Fatalf("solutions=%d, want %d", res.Solutions, tt.solutions)
			}
			if res.Solutions > 0 && !res.Solution.Solved() {
				t.Fatalf("solution %v is not solved", res.Solution.Cells)
			}
		})
	}
	res, _ := SolveSudoku(mustSudoku(t, classicPuzzle), 2)
	if got := string(res.Solution.Tokens(nil)); got != string(mustSudoku(t, classicSolution).Tokens(nil)) {
		t.Fatalf("classic solved to %v, want %s", res.Solution.Cells, classicSolution)
	}
	if _, err := SolveSudoku(Sudoku{N: 5, Cells: make([]uint8, 25)}, 2); err == nil {
		t.Fatalf("5×5 sudoku: got no error")
	}
	if _, err := SolveSudoku(Sudoku{N: 4, Cells: make([]uint8, 15)}, 2); err == nil {
		t.Fatalf("15-cell 4×4 sudoku: got no error")
	}
}

// Property: every generated puzzle has exactly one solution, the stored
// one, and with givens = 0 no given can be removed.
func TestGenerateSudokuUnique(t *testing.T) {
	for _, n := range []int{4, 6, 9} {
		count := 40
		if n == 9 && testing.Short() {
			count = 10
		}
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		for i := 0; i < count; i++ {
			p, err := GenerateSudoku(rng, n, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			res, _ := SolveSudoku(p.Puzzle, 2)
			if res.Solutions != 1 || !res.Solution.Solved() || !sameCells(res.Solution, p.Solution) {
				t.Fatalf("%d×%d puzzle %v: solutions=%d, want 1 equal to %v", n, n, p.Puzzle.Cells, res.Solutions, p.Solution.Cells)
			}
			if i%10 == 0 {
				assertMinimal(t, p.Puzzle)
			}
		}
	}
}

func sameCells(a, b Sudoku) bool { return a.N == b.N && string(a.Cells) == string(b.Cells) }

func assertMinimal(t *testing.T, p Sudoku) {
	t.Helper()
	for i, v := range p.Cells {
		if v == 0 {
			continue
		}
		q := Sudoku{N: p.N, Cells: append([]uint8(nil), p.Cells...)}
		q.Cells[i] = 0
		if res, _ := SolveSudoku(q, 2); res.Solutions != 2 {
			t.Fatalf("puzzle %v stays unique without given %d: not minimal", p.Cells, i)
		}
	}
}

func TestGenerateSudokuControls(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	p, err := GenerateSudoku(rng, 9, 30, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Puzzle.Givens(); got != 30 {
		t.Fatalf("givens=%d, want 30", got)
	}
	p, err = GenerateSudoku(rng, 9, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := SolveSudoku(p.Puzzle, 2); res.Guesses < 10 || res.Guesses != p.Guesses {
		t.Fatalf("guesses=%d (stored %d), want ≥ 10 and equal", res.Guesses, p.Guesses)
	}
	if _, err := GenerateSudoku(rng, 4, 2, 0); err == nil {
		t.Fatalf("4×4 with 2 givens: got no error (no such unique puzzle exists)")
	}
	if _, err := GenerateSudoku(rng, 7, 0, 0); err == nil {
		t.Fatalf("7×7: got no error")
	}
}

func TestGenerateSudokusDeterministicAndDistinct(t *testing.T) {
	a1, b1, err := generateSudokus(6, 50, 20, 0, 0, 42, experiments.DistinctExact)
	if err != nil {
		t.Fatal(err)
	}
	a2, b2, _ := generateSudokus(6, 50, 20, 0, 0, 42, experiments.DistinctExact)
	c, _, _ := generateSudokus(6, 50, 20, 0, 0, 43, experiments.DistinctExact)
	seen := map[string]bool{}
	for i, p := range append(a1, b1...) {
		q := append(a2, b2...)[i]
		if !sameCells(p.Puzzle, q.Puzzle) {
			t.Fatalf("puzzle %d differs between two runs with seed 42", i)
		}
		if seen[string(p.Puzzle.Cells)] {
			t.Fatalf("puzzle %d is a duplicate", i)
		}
		seen[string(p.Puzzle.Cells)] = true
	}
	if sameCells(a1[0].Puzzle, c[0].Puzzle) {
		t.Fatalf("seeds 42 and 43 give the same first puzzle")
	}
}

// Property: a shuffle keeps validity, commutes with solving, and its
// inverse undoes it.
func TestSudokuTransform(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{4, 6, 9} {
		for i := 0; i < 30; i++ {
			p, err := GenerateSudoku(rng, n, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			tr, _ := RandomSudokuTransform(rng, n)
			q, sol := tr.Apply(p.Puzzle), tr.Apply(p.Solution)
			if !sol.Solved() || !sol.Consistent(q) {
				t.Fatalf("%d×%d: shuffled solution invalid: %v", n, n, sol.Cells)
			}
			res, _ := SolveSudoku(q, 2)
			if res.Solutions != 1 || !sameCells(res.Solution, sol) {
				t.Fatalf("%d×%d: shuffled puzzle solves to %v, want %v", n, n, res.Solution.Cells, sol.Cells)
			}
			if back := tr.Inverse().Apply(q); !sameCells(back, p.Puzzle) {
				t.Fatalf("%d×%d: inverse gives %v, want %v", n, n, back.Cells, p.Puzzle.Cells)
			}
			toks := make([]int32, n*n)
			tr.applyTokens(n, p.Puzzle.Tokens(nil), toks)
			for k, v := range q.Tokens(nil) {
				if toks[k] != int32(v) {
					t.Fatalf("%d×%d: token shuffle differs from grid shuffle at %d", n, n, k)
				}
			}
		}
	}
}

func TestSudokuTokens(t *testing.T) {
	s := mustSudoku(t, "1.3.34123.41...3")
	got := s.Tokens(nil)
	want := []uint8{2, 1, 4, 1, 4, 5, 2, 3, 4, 1, 5, 2, 1, 1, 1, 4}
	if string(got) != string(want) {
		t.Fatalf("tokens=%v, want %v", got, want)
	}
	back := make([]int32, len(got))
	for i, v := range got {
		back[i] = int32(v)
	}
	if d := sudokuFromTokens(4, back); !sameCells(d, s) {
		t.Fatalf("decoded %v, want %v", d.Cells, s.Cells)
	}
}
