package tasks

import (
	"math/bits"
	"math/rand/v2"
)

// SolveResult is what the Sudoku solver found.
type SolveResult struct {
	// Solutions is the number of solutions found, capped at the limit.
	Solutions int
	// Guesses counts the digits the search tried at branch points, i.e.
	// after constraint propagation stalled. 0 means the puzzle falls to
	// naked and hidden singles alone; the papers' Sudoku-Extreme averages
	// about 22 backtracks (tdoku), a comparable order of magnitude.
	Guesses int
	// Solution is the first solution found (zero value when none).
	Solution Sudoku
}

// SolveSudoku counts the solutions of p up to limit (limit 2 decides
// uniqueness) with bitmask constraint propagation (naked and hidden singles)
// and backtracking on the cell with fewest candidates. Digits are tried in
// ascending order, so Guesses is a deterministic difficulty measure.
func SolveSudoku(p Sudoku, limit int) (SolveResult, error) {
	if err := p.check(); err != nil {
		return SolveResult{}, err
	}
	geo := newSudokuGeom(p.N)
	s := sudokuSolver{geo: geo, limit: max(limit, 1)}
	st, ok := geo.load(p)
	if ok {
		s.search(st)
	}
	res := SolveResult{Solutions: s.solutions, Guesses: s.guesses}
	if s.solutions > 0 {
		res.Solution = Sudoku{N: p.N, Cells: append([]uint8(nil), s.first[:p.N*p.N]...)}
	}
	return res, nil
}

// sudokuGeom holds the fixed structure of an N×N board.
type sudokuGeom struct {
	n     int
	full  uint16
	row   [81]uint8
	col   [81]uint8
	box   [81]uint8
	units [27][9]uint8 // rows, then columns, then boxes: their cells
}

func newSudokuGeom(n int) *sudokuGeom {
	br, bc, _ := sudokuBox(n)
	g := &sudokuGeom{n: n, full: uint16(1)<<n - 1}
	fill := make([]int, 3*n)
	for i := 0; i < n*n; i++ {
		r, c := i/n, i%n
		b := (r/br)*(n/bc) + c/bc
		g.row[i], g.col[i], g.box[i] = uint8(r), uint8(c), uint8(b)
		for _, u := range [3]int{r, n + c, 2*n + b} {
			g.units[u][fill[u]] = uint8(i)
			fill[u]++
		}
	}
	return g
}

// sudokuState is one node of the search; it is copied on every branch, which
// at under 200 bytes is cheaper than undo bookkeeping.
type sudokuState struct {
	cells         [81]uint8
	row, col, box [9]uint16
	empty         int
	// branch is the empty cell with fewest candidates after propagation.
	branch     int
	branchMask uint16
}

// load places p's givens; ok is false when two givens conflict.
func (g *sudokuGeom) load(p Sudoku) (st sudokuState, ok bool) {
	st.empty = g.n * g.n
	for i, v := range p.Cells {
		if v == 0 {
			continue
		}
		if g.candidates(&st, i)&(1<<(v-1)) == 0 {
			return st, false
		}
		g.place(&st, i, v)
	}
	return st, true
}

func (g *sudokuGeom) candidates(st *sudokuState, i int) uint16 {
	return g.full &^ (st.row[g.row[i]] | st.col[g.col[i]] | st.box[g.box[i]])
}

func (g *sudokuGeom) place(st *sudokuState, i int, v uint8) {
	bit := uint16(1) << (v - 1)
	st.cells[i] = v
	st.row[g.row[i]] |= bit
	st.col[g.col[i]] |= bit
	st.box[g.box[i]] |= bit
	st.empty--
}

// propagate fills naked and hidden singles until neither applies; it
// returns false on a contradiction and otherwise records the branch cell.
func (g *sudokuGeom) propagate(st *sudokuState) bool {
	for {
		progress := false
		best := 99
		st.branch = -1
		for i := 0; i < g.n*g.n; i++ {
			if st.cells[i] != 0 {
				continue
			}
			m := g.candidates(st, i)
			switch k := bits.OnesCount16(m); {
			case k == 0:
				return false
			case k == 1:
				g.place(st, i, uint8(bits.TrailingZeros16(m)+1))
				progress = true
			case k < best:
				best, st.branch, st.branchMask = k, i, m
			}
		}
		if progress {
			continue
		}
		hidden, ok := g.hiddenSingles(st)
		if !ok {
			return false
		}
		if !hidden {
			return true
		}
	}
}

// hiddenSingles places every digit that has one possible cell in a unit.
func (g *sudokuGeom) hiddenSingles(st *sudokuState) (progress, ok bool) {
	for u := 0; u < 3*g.n; u++ {
		var once, twice, placed uint16
		for _, i := range g.units[u][:g.n] {
			if v := st.cells[i]; v != 0 {
				placed |= 1 << (v - 1)
				continue
			}
			m := g.candidates(st, int(i))
			twice |= once & m
			once |= m
		}
		if once|placed != g.full {
			return false, false // some digit has no cell left in this unit
		}
		singles := once &^ twice
		if singles == 0 {
			continue
		}
		for _, i := range g.units[u][:g.n] {
			if st.cells[i] != 0 {
				continue
			}
			m := g.candidates(st, int(i)) & singles
			switch bits.OnesCount16(m) {
			case 0:
			case 1:
				g.place(st, int(i), uint8(bits.TrailingZeros16(m)+1))
				progress = true
			default:
				return false, false // one cell would need two digits
			}
		}
	}
	return progress, true
}

// sudokuSolver is one search: it counts solutions up to limit and the
// guesses made. rng, when set, shuffles the digit order (for generating
// random full grids).
type sudokuSolver struct {
	geo       *sudokuGeom
	limit     int
	rng       *rand.Rand
	solutions int
	guesses   int
	first     [81]uint8
}

func (s *sudokuSolver) search(st sudokuState) {
	if !s.geo.propagate(&st) {
		return
	}
	if st.empty == 0 {
		s.solutions++
		if s.solutions == 1 {
			s.first = st.cells
		}
		return
	}
	var order [9]uint8
	n := 0
	for m := st.branchMask; m != 0; m &= m - 1 {
		order[n] = uint8(bits.TrailingZeros16(m) + 1)
		n++
	}
	if s.rng != nil {
		s.rng.Shuffle(n, func(a, b int) { order[a], order[b] = order[b], order[a] })
	}
	for _, v := range order[:n] {
		if s.solutions >= s.limit {
			return
		}
		s.guesses++
		child := st
		s.geo.place(&child, st.branch, v)
		s.search(child)
	}
}

// randomSolvedSudoku returns a random complete grid: the search fills an
// empty board trying digits in random order.
func randomSolvedSudoku(rng *rand.Rand, geo *sudokuGeom) Sudoku {
	s := sudokuSolver{geo: geo, limit: 1, rng: rng}
	var st sudokuState
	st.empty = geo.n * geo.n
	s.search(st)
	return Sudoku{N: geo.n, Cells: append([]uint8(nil), s.first[:geo.n*geo.n]...)}
}
