package tasks

import (
	"fmt"
	"math/rand/v2"
	"outerloop/experiments"
)

// SudokuPuzzle is a puzzle with its unique solution.
type SudokuPuzzle struct {
	Puzzle, Solution Sudoku
	// Guesses is what SolveSudoku needed to prove the solution unique (0
	// for puzzles loaded from a file, which are not re-solved).
	Guesses int
}

// maxSudokuAttempts bounds the full grids GenerateSudoku tries before it
// reports that the requested givens or difficulty are out of reach.
const maxSudokuAttempts = 2000

// GenerateSudoku makes an N×N puzzle with exactly one solution. It fills a
// random complete grid, then removes cells in random order, keeping each
// removal that leaves the solution unique. givens = 0 removes all it can,
// which leaves a minimal puzzle (no given can go); givens > 0 stops at that
// many clues. Puzzles needing fewer than minGuesses solver guesses are
// rejected, which is how difficulty is raised towards Sudoku-Extreme.
func GenerateSudoku(rng *rand.Rand, n, givens, minGuesses int) (SudokuPuzzle, error) {
	if _, _, err := sudokuBox(n); err != nil {
		return SudokuPuzzle{}, err
	}
	if givens < 0 || givens > n*n {
		return SudokuPuzzle{}, fmt.Errorf("sudoku givens %d: want 0..%d", givens, n*n)
	}
	geo := newSudokuGeom(n)
	for attempt := 0; attempt < maxSudokuAttempts; attempt++ {
		sol := randomSolvedSudoku(rng, geo)
		puzzle := Sudoku{N: n, Cells: append([]uint8(nil), sol.Cells...)}
		count := n * n
		for _, i := range rng.Perm(n * n) {
			if givens > 0 && count <= givens {
				break
			}
			v := puzzle.Cells[i]
			puzzle.Cells[i] = 0
			if s, _ := geo.count(puzzle, 2); s.solutions == 1 {
				count--
			} else {
				puzzle.Cells[i] = v
			}
		}
		if givens > 0 && count != givens {
			continue
		}
		s, _ := geo.count(puzzle, 2)
		if s.guesses < minGuesses {
			continue
		}
		return SudokuPuzzle{Puzzle: puzzle, Solution: sol, Guesses: s.guesses}, nil
	}
	return SudokuPuzzle{}, fmt.Errorf("no %d×%d sudoku with %d givens and ≥ %d guesses in %d attempts",
		n, n, givens, minGuesses, maxSudokuAttempts)
}

// count runs the solver on p (already checked) without allocating a result.
func (g *sudokuGeom) count(p Sudoku, limit int) (sudokuSolver, bool) {
	s := sudokuSolver{geo: g, limit: limit}
	st, ok := g.load(p)
	if ok {
		s.search(st)
	}
	return s, ok
}

// generateSudokus makes train+test distinct puzzles for a dataset: item i is
// drawn from its own random stream, duplicates are skipped, the first train
// go to training and the rest to test, so the splits never share a puzzle
// (nor, with distinct = symmetry, a symmetric image of one).
func generateSudokus(n, train, test, givens, minGuesses int, seed int64, distinct experiments.Distinct) (tr, te []SudokuPuzzle, err error) {
	want := train + test
	seen := make(map[uint64]bool, want)
	key := func(p SudokuPuzzle) uint64 { return sudokuHash(p.Puzzle) }
	if distinct == experiments.DistinctSymmetry {
		key = func(p SudokuPuzzle) uint64 {
			c, _ := SudokuCanonical(p.Puzzle) // the size was checked by GenerateSudoku
			h := newHash()
			h.addBytes([]byte(c))
			return uint64(h)
		}
	}
	all := make([]SudokuPuzzle, 0, want)
	gen := func(i int) (SudokuPuzzle, error) {
		return GenerateSudoku(itemRNG(seed, 1, i), n, givens, minGuesses)
	}
	accept := func(p SudokuPuzzle) bool {
		h := key(p)
		if !seen[h] {
			seen[h] = true
			all = append(all, p)
		}
		return len(all) >= want
	}
	if want > 0 {
		if err := generateOrdered(attemptBudget(want), gen, accept); err != nil {
			return nil, nil, fmt.Errorf("generate %d distinct %d×%d sudoku (found %d): %w", want, n, n, len(all), err)
		}
	}
	return all[:train], all[train:], nil
}

func sudokuHash(s Sudoku) uint64 {
	h := newHash()
	h.add(uint8(s.N))
	h.addBytes(s.Cells)
	return uint64(h)
}
