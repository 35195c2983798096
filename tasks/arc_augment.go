package tasks

import (
	"math/rand/v2"
)

// ARCVariant is one augmentation of an ARC task: a dihedral transform, then
// a recolouring (Colours[c] replaces colour c; Colours[0] is 0, so the black
// background stays). It is kept with every sample so a prediction can be
// mapped back to the original frame.
type ARCVariant struct {
	Dihedral Dihedral
	Colours  [10]uint8
}

// identityVariant changes nothing.
func identityVariant() ARCVariant {
	var v ARCVariant
	for c := range v.Colours {
		v.Colours[c] = uint8(c)
	}
	return v
}

// randomVariant draws one of the 8 dihedral transforms and a uniform
// permutation of colours 1–9 (HRM build_arc_dataset.py).
func randomVariant(rng *rand.Rand) ARCVariant {
	v := ARCVariant{Dihedral: Dihedral(rng.IntN(NumDihedral))}
	for i, c := range rng.Perm(9) {
		v.Colours[i+1] = uint8(c + 1)
	}
	return v
}

// Apply returns g augmented by v.
func (v ARCVariant) Apply(g Grid) Grid {
	out := v.Dihedral.Apply(g)
	for i, c := range out.Cells {
		out.Cells[i] = v.Colours[c]
	}
	return out
}

// Invert maps a grid predicted in v's frame back to the original frame.
// Colours outside 0–9 are left as they are.
func (v ARCVariant) Invert(g Grid) Grid {
	var back [10]uint8
	for c, to := range v.Colours {
		back[to] = uint8(c)
	}
	out := v.Dihedral.Inverse().Apply(g)
	for i, c := range out.Cells {
		if c < 10 {
			out.Cells[i] = back[c]
		}
	}
	return out
}

// hashInto adds g, as seen through v, to h without building the grid.
func (v ARCVariant) hashInto(h *fnvHash, g Grid) {
	oh, ow := v.Dihedral.Shape(g.H, g.W)
	h.add(uint8(oh))
	h.add(uint8(ow))
	for r := 0; r < oh; r++ {
		for c := 0; c < ow; c++ {
			sr, sc := v.Dihedral.source(r, c, g.H, g.W)
			h.add(v.Colours[g.Cells[sr*g.W+sc]])
		}
	}
}

// augmentRetries is HRM's augment_retries_factor: random draws per wanted
// variant before a task is taken to have no more distinct ones.
const augmentRetries = 5

// taskVariants returns the identity plus up to k distinct random variants
// of the task whose visible grids are grids. Two variants are the same when
// they turn every grid into the same grids (a symmetric task or one with few
// colours has fewer distinct variants than 8·9!).
func taskVariants(rng *rand.Rand, grids []Grid, k int) []ARCVariant {
	hash := func(v ARCVariant) uint64 {
		h := newHash()
		for _, g := range grids {
			v.hashInto(&h, g)
		}
		return uint64(h)
	}
	id := identityVariant()
	out := []ARCVariant{id}
	seen := map[uint64]bool{hash(id): true}
	for try := 0; try < augmentRetries*k && len(out) <= k; try++ {
		v := randomVariant(rng)
		if h := hash(v); !seen[h] {
			seen[h] = true
			out = append(out, v)
		}
	}
	return out
}

// canonicalHash hashes grids up to the augmentation group: the smallest
// hash over the 8 dihedral transforms of all of them (the same transform
// for each) with colours 1–9 renamed in order of first appearance across
// them. Grids that are one augmentation of each other hash the same, which
// is what the leak check between splits needs: canonicalHash(in, out) of a
// training pair equals that of an evaluation test pair exactly when the
// training pair is that test pair seen through some variant.
func canonicalHash(grids ...Grid) uint64 {
	best := ^uint64(0)
	for d := Dihedral(0); d < NumDihedral; d++ {
		var rename [10]uint8
		next := uint8(1)
		h := newHash()
		for _, g := range grids {
			oh, ow := d.Shape(g.H, g.W)
			h.add(uint8(oh))
			h.add(uint8(ow))
			for r := 0; r < oh; r++ {
				for c := 0; c < ow; c++ {
					sr, sc := d.source(r, c, g.H, g.W)
					col := g.Cells[sr*g.W+sc]
					if col != 0 && rename[col] == 0 {
						rename[col] = next
						next++
					}
					h.add(rename[col])
				}
			}
		}
		best = min(best, uint64(h))
	}
	return best
}
