package tasks

import (
	"math/rand/v2"
)

// The ARC-lite families. Each needs a computation that propagates across
// the grid step by step (a flood, a fall, a ray, a search for a partner, a
// count), and each task hides parameters that its demonstrations reveal.

// liteFill: closed outlines of the wall colour get their inside filled with
// the fill colour; outlines with a gap stay empty. Needs a flood fill from
// the border.
func liteFill(rng *rand.Rand) liteRule {
	c := colours(rng, 2)
	wall, fill := c[0], c[1]
	return func(rng *rand.Rand, h, w int) (Pair, bool) {
		in := NewGrid(h, w)
		for k := 1 + rng.IntN(3); k > 0; k-- {
			rh, rw := 3+rng.IntN(h-2), 3+rng.IntN(w-2)
			r0, c0 := rng.IntN(h-rh+1), rng.IntN(w-rw+1)
			var border []int
			for r := r0; r < r0+rh; r++ {
				for c := c0; c < c0+rw; c++ {
					if r == r0 || r == r0+rh-1 || c == c0 || c == c0+rw-1 {
						in.Set(r, c, wall)
						if (r == r0 || r == r0+rh-1) != (c == c0 || c == c0+rw-1) {
							border = append(border, r*w+c) // not a corner
						}
					}
				}
			}
			if rng.IntN(3) == 0 {
				in.Cells[border[rng.IntN(len(border))]] = 0
			}
		}
		for k := rng.IntN(3); k > 0; k-- {
			in.Cells[rng.IntN(h*w)] = wall
		}
		out := in.Clone()
		outside := reachFromBorder(in)
		for i, v := range in.Cells {
			if v == 0 && !outside[i] {
				out.Cells[i] = fill
			}
		}
		p := Pair{Input: in, Output: out}
		return p, changed(p)
	}
}

// reachFromBorder marks the background cells connected to the border
// through background cells.
func reachFromBorder(g Grid) []bool {
	seen := make([]bool, len(g.Cells))
	var stack []int
	for i, v := range g.Cells {
		r, c := i/g.W, i%g.W
		if v == 0 && (r == 0 || c == 0 || r == g.H-1 || c == g.W-1) {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	var nb [4]int
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range neighbours(i, g.H, g.W, &nb) {
			if !seen[j] && g.Cells[j] == 0 {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	return seen
}

// lines returns the cells of each row or column of an h×w grid, ordered
// from the edge that direction dir points at (0 down, 1 up, 2 right,
// 3 left).
func lines(h, w, dir int) [][]int {
	var out [][]int
	switch dir {
	case 0, 1:
		for c := 0; c < w; c++ {
			line := make([]int, h)
			for j := range line {
				r := j
				if dir == 0 {
					r = h - 1 - j
				}
				line[j] = r*w + c
			}
			out = append(out, line)
		}
	default:
		for r := 0; r < h; r++ {
			line := make([]int, w)
			for j := range line {
				c := j
				if dir == 2 {
					c = w - 1 - j
				}
				line[j] = r*w + c
			}
			out = append(out, line)
		}
	}
	return out
}

// otherColour draws a colour from 1–9 other than not.
func otherColour(rng *rand.Rand, not uint8) uint8 {
	c := uint8(1 + rng.IntN(8))
	if c >= not {
		c++
	}
	return c
}

// liteGravity: cells fall in the task's direction until they rest on the
// edge, an obstacle (the task's fixed colour) or a cell that already fell.
func liteGravity(rng *rand.Rand) liteRule {
	dir := rng.IntN(4)
	obstacle := colours(rng, 1)[0]
	return func(rng *rand.Rand, h, w int) (Pair, bool) {
		in := NewGrid(h, w)
		for i := range in.Cells {
			switch x := rng.Float64(); {
			case x < 0.08:
				in.Cells[i] = obstacle
			case x < 0.25:
				in.Cells[i] = otherColour(rng, obstacle)
			}
		}
		p := Pair{Input: in, Output: fall(in, dir, obstacle)}
		return p, changed(p)
	}
}

// fall lets every cell but the background and obstacles fall in direction
// dir (as in lines) until it rests on the edge, an obstacle or a fallen cell.
func fall(in Grid, dir int, obstacle uint8) Grid {
	out := in.Clone()
	for _, line := range lines(in.H, in.W, dir) {
		rest := 0 // next free slot, counted from the edge
		for j, i := range line {
			switch v := in.Cells[i]; v {
			case 0:
			case obstacle:
				rest = j + 1
			default:
				out.Cells[i] = 0
				out.Cells[line[rest]] = v
				rest++
			}
		}
	}
	return out
}

// step returns the (row, column) step of direction dir (as in lines).
func step(dir int) (int, int) {
	return [4]int{1, -1, 0, 0}[dir], [4]int{0, 0, 1, -1}[dir]
}

// liteExtend: each seed pixel shoots a ray of its colour in the task's
// direction through the background until it meets any coloured cell or the
// edge.
func liteExtend(rng *rand.Rand) liteRule {
	dir := rng.IntN(4)
	c := colours(rng, 2)
	seed, obstacle := c[0], c[1]
	dr, dc := step(dir)
	return func(rng *rand.Rand, h, w int) (Pair, bool) {
		in := NewGrid(h, w)
		for i := range in.Cells {
			if rng.Float64() < 0.12 {
				in.Cells[i] = obstacle
			}
		}
		for k := 1 + rng.IntN(3); k > 0; k-- {
			in.Cells[rng.IntN(h*w)] = seed
		}
		out := in.Clone()
		for i, v := range in.Cells {
			if v != seed {
				continue
			}
			for r, c := i/w+dr, i%w+dc; r >= 0 && r < h && c >= 0 && c < w && in.At(r, c) == 0; r, c = r+dr, c+dc {
				out.Set(r, c, seed)
			}
		}
		p := Pair{Input: in, Output: out}
		return p, changed(p)
	}
}

// liteConnect: two dots of one colour on a common row or column are joined
// by a line, of the task's line colour or, in some tasks, of the dots' own
// colour; lone dots stay as they are. Needs a search for each dot's partner.
func liteConnect(rng *rand.Rand) liteRule {
	line := colours(rng, 1)[0]
	own := rng.IntN(2) == 0
	return func(rng *rand.Rand, h, w int) (Pair, bool) {
		in := NewGrid(h, w)
		used := make([]bool, h*w)
		var palette []uint8
		for _, c := range colours(rng, 9) {
			if c != line {
				palette = append(palette, c)
			}
		}
		var segments [][]int
		want := 1 + rng.IntN(3)
		for try := 0; try < 30 && len(segments) < want; try++ {
			seg := randomSegment(rng, h, w)
			if seg == nil || anyUsed(used, seg) {
				continue
			}
			col := palette[len(segments)]
			for _, i := range seg {
				used[i] = true
			}
			in.Cells[seg[0]], in.Cells[seg[len(seg)-1]] = col, col
			segments = append(segments, seg)
		}
		for k, next := rng.IntN(3), len(segments); k > 0 && next < len(palette); k-- {
			if i := rng.IntN(h * w); !used[i] {
				used[i] = true
				in.Cells[i] = palette[next]
				next++
			}
		}
		out := in.Clone()
		for _, seg := range segments {
			c := line
			if own {
				c = in.Cells[seg[0]]
			}
			for _, i := range seg[1 : len(seg)-1] {
				out.Cells[i] = c
			}
		}
		p := Pair{Input: in, Output: out}
		return p, len(segments) > 0 && changed(p)
	}
}

// randomSegment returns the cells of a random horizontal or vertical
// segment at least 3 cells long, ends included, or nil.
func randomSegment(rng *rand.Rand, h, w int) []int {
	vertical := rng.IntN(2) == 0
	n, across := w, h
	if vertical {
		n, across = h, w
	}
	if n < 3 {
		return nil
	}
	a := rng.IntN(n - 2)
	b := a + 2 + rng.IntN(n-a-2)
	k := rng.IntN(across)
	seg := make([]int, 0, b-a+1)
	for j := a; j <= b; j++ {
		if vertical {
			seg = append(seg, j*w+k)
		} else {
			seg = append(seg, k*w+j)
		}
	}
	return seg
}

func anyUsed(used []bool, cells []int) bool {
	for _, i := range cells {
		if used[i] {
			return true
		}
	}
	return false
}

// liteRecolour: objects (4-connected shapes of one colour, apart from each
// other) are recoloured by their size, 1 to 4 cells, through the task's
// palette. Every example holds each size once, so each demonstration shows
// the whole palette. Needs counting the cells of each object.
func liteRecolour(rng *rand.Rand) liteRule {
	c := colours(rng, 5)
	object, palette := c[0], c[1:]
	return func(rng *rand.Rand, h, w int) (Pair, bool) {
		in, out := NewGrid(h, w), NewGrid(h, w)
		blocked := make([]bool, h*w)
		sizes := []int{1, 2, 3, 4}
		for k := rng.IntN(3); k > 0; k-- {
			sizes = append(sizes, 1+rng.IntN(4))
		}
		rng.Shuffle(len(sizes), func(a, b int) { sizes[a], sizes[b] = sizes[b], sizes[a] })
		var nb [4]int
		for _, size := range sizes {
			cells := growShape(rng, h, w, size, blocked)
			if cells == nil {
				return Pair{}, false
			}
			for _, i := range cells {
				in.Cells[i], out.Cells[i] = object, palette[size-1]
				blocked[i] = true
				for _, j := range neighbours(i, h, w, &nb) {
					blocked[j] = true
				}
			}
		}
		return Pair{Input: in, Output: out}, true
	}
}

// growShape grows a random 4-connected shape of size cells over unblocked
// cells, or returns nil when it gets stuck.
func growShape(rng *rand.Rand, h, w, size int, blocked []bool) []int {
	start := rng.IntN(h * w)
	if blocked[start] {
		return nil
	}
	cells := []int{start}
	in := map[int]bool{start: true}
	var nb [4]int
	for len(cells) < size {
		var frontier []int
		for _, i := range cells {
			for _, j := range neighbours(i, h, w, &nb) {
				if !blocked[j] && !in[j] {
					frontier = append(frontier, j)
				}
			}
		}
		if len(frontier) == 0 {
			return nil
		}
		j := frontier[rng.IntN(len(frontier))]
		in[j] = true
		cells = append(cells, j)
	}
	return cells
}
