package tasks

import (
	"fmt"
	"math/rand/v2"
)

// Sudoku tokens, as in HRM's build_sudoku_dataset.py: 0 is padding, 1 a
// blank cell and digit d is token d+1 (vocab 11 on 9×9).
const (
	sudokuPad   = 0
	sudokuBlank = 1
)

// Sudoku is an N×N Sudoku grid in row-major order: 0 is a blank, 1..N are
// digits. N is 4 (2×2 boxes), 6 (2 rows × 3 columns) or 9 (3×3).
type Sudoku struct {
	N     int
	Cells []uint8
}

// sudokuBox returns the box shape for side n.
func sudokuBox(n int) (rows, cols int, err error) {
	switch n {
	case 4:
		return 2, 2, nil
	case 6:
		return 2, 3, nil
	case 9:
		return 3, 3, nil
	}
	return 0, 0, fmt.Errorf("sudoku size %d: want 4, 6 or 9", n)
}

// check reports an error if s is not a well-formed N×N grid of 0..N.
func (s Sudoku) check() error {
	if _, _, err := sudokuBox(s.N); err != nil {
		return err
	}
	if len(s.Cells) != s.N*s.N {
		return fmt.Errorf("sudoku has %d cells, want %d", len(s.Cells), s.N*s.N)
	}
	for i, v := range s.Cells {
		if int(v) > s.N {
			return fmt.Errorf("sudoku cell %d is %d, want 0..%d", i, v, s.N)
		}
	}
	return nil
}

// Givens returns the number of filled cells.
func (s Sudoku) Givens() int {
	n := 0
	for _, v := range s.Cells {
		if v != 0 {
			n++
		}
	}
	return n
}

// Solved reports whether s is a complete grid with every row, column and box
// holding each digit once.
func (s Sudoku) Solved() bool {
	if s.check() != nil {
		return false
	}
	br, bc, _ := sudokuBox(s.N)
	full := uint16(1)<<s.N - 1
	var rows, cols, boxes [9]uint16
	for i, v := range s.Cells {
		if v == 0 {
			return false
		}
		r, c := i/s.N, i%s.N
		bit := uint16(1) << (v - 1)
		rows[r] |= bit
		cols[c] |= bit
		boxes[(r/br)*(s.N/bc)+c/bc] |= bit
	}
	for k := 0; k < s.N; k++ {
		if rows[k] != full || cols[k] != full || boxes[k] != full {
			return false
		}
	}
	return true
}

// Consistent reports whether every given of puzzle p holds the same digit
// in s.
func (s Sudoku) Consistent(p Sudoku) bool {
	if len(s.Cells) != len(p.Cells) {
		return false
	}
	for i, v := range p.Cells {
		if v != 0 && s.Cells[i] != v {
			return false
		}
	}
	return true
}

// Tokens appends s's tokens to dst: blank 1, digit d as d+1.
func (s Sudoku) Tokens(dst []uint8) []uint8 {
	for _, v := range s.Cells {
		dst = append(dst, v+sudokuBlank)
	}
	return dst
}

// sudokuFromTokens decodes N×N tokens; tokens outside blank..digits make
// the cell blank, so a malformed prediction decodes to an unsolved grid.
func sudokuFromTokens(n int, tokens []int32) Sudoku {
	s := Sudoku{N: n, Cells: make([]uint8, n*n)}
	for i, t := range tokens[:n*n] {
		if t > sudokuBlank && int(t) <= n+sudokuBlank {
			s.Cells[i] = uint8(t - sudokuBlank)
		}
	}
	return s
}

// SudokuTransform is a validity-preserving Sudoku shuffle (HRM's
// shuffle_sudoku): a digit relabelling, a permutation of bands and of rows
// inside each band, of stacks and of columns inside each stack, and, for
// square boxes, an optional transpose. Applied identically to a puzzle and
// its solution it maps one to the other's counterpart.
type SudokuTransform struct {
	// Digits maps digit d to Digits[d]; Digits[0] is 0 so blanks stay blank.
	Digits []uint8
	// Rows and Cols: output row r (column c) reads input row Rows[r]
	// (column Cols[c]), before the transpose.
	Rows, Cols []uint8
	// Transpose reflects the result in the main diagonal.
	Transpose bool
}

// IdentitySudokuTransform returns the transform that changes nothing.
func IdentitySudokuTransform(n int) SudokuTransform {
	t := SudokuTransform{Digits: make([]uint8, n+1), Rows: make([]uint8, n), Cols: make([]uint8, n)}
	for i := range t.Digits {
		t.Digits[i] = uint8(i)
	}
	for i := 0; i < n; i++ {
		t.Rows[i], t.Cols[i] = uint8(i), uint8(i)
	}
	return t
}

// RandomSudokuTransform draws a uniformly random shuffle for side n.
func RandomSudokuTransform(rng *rand.Rand, n int) (SudokuTransform, error) {
	br, bc, err := sudokuBox(n)
	if err != nil {
		return SudokuTransform{}, err
	}
	t := SudokuTransform{Digits: make([]uint8, n+1)}
	for i, d := range rng.Perm(n) {
		t.Digits[i+1] = uint8(d + 1)
	}
	t.Rows = blockPermutation(rng, n/br, br)
	t.Cols = blockPermutation(rng, n/bc, bc)
	t.Transpose = br == bc && rng.IntN(2) == 1
	return t, nil
}

// blockPermutation permutes blocks blocks of size lines, and the lines inside
// each block, as Sudoku bands (rows) or stacks (columns).
func blockPermutation(rng *rand.Rand, blocks, size int) []uint8 {
	out := make([]uint8, 0, blocks*size)
	for _, b := range rng.Perm(blocks) {
		for _, l := range rng.Perm(size) {
			out = append(out, uint8(b*size+l))
		}
	}
	return out
}

// source returns the input cell that output cell (r, c) reads.
func (t SudokuTransform) source(r, c int) (int, int) {
	if t.Transpose {
		r, c = c, r
	}
	return int(t.Rows[r]), int(t.Cols[c])
}

// Apply returns s shuffled by t.
func (t SudokuTransform) Apply(s Sudoku) Sudoku {
	out := Sudoku{N: s.N, Cells: make([]uint8, len(s.Cells))}
	for r := 0; r < s.N; r++ {
		for c := 0; c < s.N; c++ {
			sr, sc := t.source(r, c)
			out.Cells[r*s.N+c] = t.Digits[s.Cells[sr*s.N+sc]]
		}
	}
	return out
}

// applyTokens writes the shuffled N×N tokens of src into dst.
func (t SudokuTransform) applyTokens(n int, src []uint8, dst []int32) {
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			sr, sc := t.source(r, c)
			tok := src[sr*n+sc]
			if tok > sudokuBlank {
				tok = t.Digits[tok-sudokuBlank] + sudokuBlank
			}
			dst[r*n+c] = int32(tok)
		}
	}
}

// Inverse returns the transform that undoes t.
func (t SudokuTransform) Inverse() SudokuTransform {
	n := len(t.Rows)
	inv := SudokuTransform{Digits: make([]uint8, len(t.Digits)), Rows: make([]uint8, n), Cols: make([]uint8, n), Transpose: t.Transpose}
	for d, to := range t.Digits {
		inv.Digits[to] = uint8(d)
	}
	invRows, invCols := make([]uint8, n), make([]uint8, n)
	for i := 0; i < n; i++ {
		invRows[t.Rows[i]] = uint8(i)
		invCols[t.Cols[i]] = uint8(i)
	}
	// Undoing "permute, then transpose" is "transpose, then unpermute",
	// which in this form swaps the roles of the row and column orders.
	if t.Transpose {
		inv.Rows, inv.Cols = invCols, invRows
	} else {
		inv.Rows, inv.Cols = invRows, invCols
	}
	return inv
}

// sudokuVariant returns augmented variant v of puzzle p (v = 0 is the
// identity). Variants are a pure function of (seed, p, v), so "K variants per
// puzzle" is a fixed set, as in the papers' stored datasets, at no memory.
func sudokuVariant(n int, seed int64, p, v int) SudokuTransform {
	if v == 0 {
		return IdentitySudokuTransform(n)
	}
	rng := rand.New(rand.NewPCG(uint64(seed)^0x5d0c0, uint64(p)<<32|uint64(v)))
	t, err := RandomSudokuTransform(rng, n)
	if err != nil {
		return IdentitySudokuTransform(n)
	}
	return t
}
