package tasks

import (
	"fmt"
	"strings"
)

// Grid is a rectangular grid of small cell values in row-major order: ARC
// colours 0–9, maze cells or Sudoku digits.
type Grid struct {
	H, W  int
	Cells []uint8
}

// NewGrid returns an h×w grid of zeros.
func NewGrid(h, w int) Grid {
	return Grid{H: h, W: w, Cells: make([]uint8, h*w)}
}

// At returns the cell in row r, column c.
func (g Grid) At(r, c int) uint8 { return g.Cells[r*g.W+c] }

// Set writes v to the cell in row r, column c.
func (g Grid) Set(r, c int, v uint8) { g.Cells[r*g.W+c] = v }

// Equal reports whether g and o have the same shape and cells.
func (g Grid) Equal(o Grid) bool {
	if g.H != o.H || g.W != o.W || len(g.Cells) != len(o.Cells) {
		return false
	}
	for i, v := range g.Cells {
		if o.Cells[i] != v {
			return false
		}
	}
	return true
}

// Clone returns a deep copy of g.
func (g Grid) Clone() Grid {
	return Grid{H: g.H, W: g.W, Cells: append([]uint8(nil), g.Cells...)}
}

// String draws g one row per line, cells as digits (values above 9 as
// letters), for test failures and debugging.
func (g Grid) String() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	for r := 0; r < g.H; r++ {
		for c := 0; c < g.W; c++ {
			v := int(g.At(r, c))
			if v < len(digits) {
				b.WriteByte(digits[v])
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// hash returns a 64-bit FNV-1a hash of g's shape and cells.
func (g Grid) hash() uint64 {
	h := newHash()
	h.add(uint8(g.H))
	h.add(uint8(g.W))
	h.addBytes(g.Cells)
	return uint64(h)
}

// Dihedral is one of the 8 symmetries of the square, numbered as in HRM's
// dataset/common.py so variant identities read the same as the papers'.
type Dihedral uint8

// The 8 dihedral transforms. Rotations are counter-clockwise (numpy.rot90).
const (
	Identity      Dihedral = iota
	Rot90                  // counter-clockwise quarter turn
	Rot180                 // half turn
	Rot270                 // clockwise quarter turn
	FlipLR                 // mirror left-right
	FlipUD                 // mirror up-down
	Transpose              // reflect in the main diagonal
	AntiTranspose          // reflect in the anti-diagonal
)

// NumDihedral is the number of dihedral transforms.
const NumDihedral = 8

// Inverse returns the transform that undoes d.
func (d Dihedral) Inverse() Dihedral {
	switch d {
	case Rot90:
		return Rot270
	case Rot270:
		return Rot90
	}
	return d
}

// String names d.
func (d Dihedral) String() string {
	names := [...]string{"identity", "rot90", "rot180", "rot270", "flip-lr", "flip-ud", "transpose", "anti-transpose"}
	if int(d) < len(names) {
		return names[d]
	}
	return fmt.Sprintf("dihedral(%d)", uint8(d))
}

// Shape returns the shape of an h×w grid after d.
func (d Dihedral) Shape(h, w int) (int, int) {
	switch d {
	case Rot90, Rot270, Transpose, AntiTranspose:
		return w, h
	}
	return h, w
}

// source returns the input coordinates that output cell (r, c) reads when d
// is applied to an h×w input.
func (d Dihedral) source(r, c, h, w int) (int, int) {
	switch d {
	case Rot90:
		return c, w - 1 - r
	case Rot180:
		return h - 1 - r, w - 1 - c
	case Rot270:
		return h - 1 - c, r
	case FlipLR:
		return r, w - 1 - c
	case FlipUD:
		return h - 1 - r, c
	case Transpose:
		return c, r
	case AntiTranspose:
		return h - 1 - c, w - 1 - r
	}
	return r, c
}

// Apply returns g transformed by d.
func (d Dihedral) Apply(g Grid) Grid {
	oh, ow := d.Shape(g.H, g.W)
	out := NewGrid(oh, ow)
	for r := 0; r < oh; r++ {
		for c := 0; c < ow; c++ {
			sr, sc := d.source(r, c, g.H, g.W)
			out.Cells[r*ow+c] = g.Cells[sr*g.W+sc]
		}
	}
	return out
}

// fnvHash is a 64-bit FNV-1a hash: stable across runs and platforms, so the
// same puzzle hashes the same in every process (cache files, dedupe).
type fnvHash uint64

func newHash() fnvHash { return 14695981039346656037 }

func (h *fnvHash) add(b uint8) {
	*h ^= fnvHash(b)
	*h *= 1099511628211
}

func (h *fnvHash) addBytes(bs []uint8) {
	for _, b := range bs {
		h.add(b)
	}
}
