package tasks

import (
	"slices"
)

// Canonical forms up to a task's symmetries. Training augments every puzzle
// with the same symmetries (Sudoku: digit relabelling, band and stack
// shuffles, transposition where boxes are square; Maze: the 8 dihedral
// maps), so a test puzzle that is a symmetric image of a training puzzle has
// effectively been trained on. With task.distinct = "symmetry" generation
// keeps one puzzle per canonical form, so the test split is new up to
// symmetry, not just byte for byte.

// SudokuCanonical returns a key shared by exactly the puzzles equivalent to
// p under the shuffles RandomSudokuTransform draws: the lexicographically
// smallest cell string over every band/stack shuffle (and transpose), with
// digits renumbered in order of first appearance so that relabellings
// coincide.
func SudokuCanonical(p Sudoku) (string, error) {
	br, bc, err := sudokuBox(p.N)
	if err != nil {
		return "", err
	}
	rows := blockPermutations(p.N/br, br)
	cols := blockPermutations(p.N/bc, bc)
	transposes := []bool{false}
	if br == bc {
		transposes = append(transposes, true)
	}
	best := []byte(nil)
	buf := make([]byte, len(p.Cells))
	for _, transpose := range transposes {
		for _, r := range rows {
			for _, c := range cols {
				relabelled(p, SudokuTransform{Rows: r, Cols: c, Transpose: transpose}, buf)
				if best == nil || string(buf) < string(best) {
					best = slices.Clone(buf)
				}
			}
		}
	}
	return string(best), nil
}

// relabelled writes p under t's row and column maps into out, numbering
// digits by first appearance (blanks stay 0).
func relabelled(p Sudoku, t SudokuTransform, out []byte) {
	var names [256]byte
	next := byte(1)
	for r := 0; r < p.N; r++ {
		for c := 0; c < p.N; c++ {
			sr, sc := t.source(r, c)
			d := p.Cells[sr*p.N+sc]
			if d != 0 && names[d] == 0 {
				names[d] = next
				next++
			}
			out[r*p.N+c] = names[d]
		}
	}
}

// blockPermutations lists every permutation of blocks blocks of size lines
// that keeps each block's lines together: blocks! · (size!)^blocks maps.
func blockPermutations(blocks, size int) [][]uint8 {
	var out [][]uint8
	for _, order := range permutations(blocks) {
		var rec func(i int, acc []uint8)
		rec = func(i int, acc []uint8) {
			if i == blocks {
				out = append(out, slices.Clone(acc))
				return
			}
			for _, inner := range permutations(size) {
				next := acc
				for _, l := range inner {
					next = append(next, uint8(order[i]*size+l))
				}
				rec(i+1, next)
			}
		}
		rec(0, nil)
	}
	return out
}

// permutations lists every ordering of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(slices.Clone(p[:i]), n-1)
			out = append(out, append(q, p[i:]...))
		}
	}
	return out
}

// MazeCanonical returns a key shared by exactly the mazes that map onto m
// under one of the 8 symmetries of the square.
func MazeCanonical(m Grid) uint64 {
	best := uint64(0)
	for d := Dihedral(0); d < NumDihedral; d++ {
		if h := d.Apply(m).hash(); d == 0 || h < best {
			best = h
		}
	}
	return best
}
