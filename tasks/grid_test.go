package tasks

import (
	"math/rand/v2"
	"testing"
)

func gridOf(rows ...[]uint8) Grid {
	g := NewGrid(len(rows), len(rows[0]))
	for r, row := range rows {
		copy(g.Cells[r*g.W:], row)
	}
	return g
}

func randomGrid(rng *rand.Rand, maxSide, colours int) Grid {
	g := NewGrid(1+rng.IntN(maxSide), 1+rng.IntN(maxSide))
	for i := range g.Cells {
		g.Cells[i] = uint8(rng.IntN(colours))
	}
	return g
}

// The numbering must match numpy as used in HRM's dataset/common.py, or
// variant ids would not mean what the papers' do.
func TestDihedralMatchesNumpy(t *testing.T) {
	g := gridOf([]uint8{1, 2, 3}, []uint8{4, 5, 6})
	tests := []struct {
		d    Dihedral
		want Grid
	}{
		{Identity, g},
		{Rot90, gridOf([]uint8{3, 6}, []uint8{2, 5}, []uint8{1, 4})},
		{Rot180, gridOf([]uint8{6, 5, 4}, []uint8{3, 2, 1})},
		{Rot270, gridOf([]uint8{4, 1}, []uint8{5, 2}, []uint8{6, 3})},
		{FlipLR, gridOf([]uint8{3, 2, 1}, []uint8{6, 5, 4})},
		{FlipUD, gridOf([]uint8{4, 5, 6}, []uint8{1, 2, 3})},
		{Transpose, gridOf([]uint8{1, 4}, []uint8{2, 5}, []uint8{3, 6})},
		{AntiTranspose, gridOf([]uint8{6, 3}, []uint8{5, 2}, []uint8{4, 1})},
	}
	for _, tt := range tests {
		if got := tt.d.Apply(g); !got.Equal(tt.want) {
			t.Fatalf("%v:\n%v want\n%v", tt.d, got, tt.want)
		}
	}
}

func TestDihedralInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		g := randomGrid(rng, 7, 10)
		d := Dihedral(rng.IntN(NumDihedral))
		if got := d.Inverse().Apply(d.Apply(g)); !got.Equal(g) {
			t.Fatalf("%v then inverse %v:\n%v want\n%v", d, d.Inverse(), got, g)
		}
	}
}

func TestDihedralDistinct(t *testing.T) {
	g := gridOf([]uint8{1, 2, 3}, []uint8{4, 5, 6}, []uint8{7, 8, 9})
	seen := map[string]Dihedral{}
	for d := Dihedral(0); d < NumDihedral; d++ {
		k := d.Apply(g).String()
		if prev, ok := seen[k]; ok {
			t.Fatalf("%v and %v give the same grid", prev, d)
		}
		seen[k] = d
	}
}
