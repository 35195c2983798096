package tasks

import (
	"fmt"
	"strings"
)

// Maze cell values, which are also its tokens: HRM's build_maze_dataset.py
// maps the characters of "# SGo" to 1..5 and keeps 0 for padding.
const (
	mazeWall  = 1
	mazeOpen  = 2
	mazeStart = 3
	mazeGoal  = 4
	mazePath  = 5
)

// mazeCharset lists the maze characters in token order from 1.
const mazeCharset = "# SGo"

// MazePuzzle is a square maze and its label: the same grid with the cells
// of a shortest start–goal path (start and goal excluded) marked as path.
type MazePuzzle struct {
	Maze, Solution Grid
}

// ParseMaze decodes n×n characters of "# SGo" (row-major, no separators).
func ParseMaze(s string) (Grid, error) {
	n := 1
	for n*n < len(s) {
		n++
	}
	if n*n != len(s) || n < 2 {
		return Grid{}, fmt.Errorf("maze of %d characters is not a square of side ≥ 2", len(s))
	}
	g := NewGrid(n, n)
	for i := 0; i < len(s); i++ {
		k := strings.IndexByte(mazeCharset, s[i])
		if k < 0 {
			return Grid{}, fmt.Errorf("maze character %q at %d: want one of %q", s[i], i, mazeCharset)
		}
		g.Cells[i] = uint8(k + 1)
	}
	return g, nil
}

// FormatMaze encodes g as characters of "# SGo", the inverse of ParseMaze.
func FormatMaze(g Grid) string {
	b := make([]byte, len(g.Cells))
	for i, v := range g.Cells {
		if v >= mazeWall && v <= mazePath {
			b[i] = mazeCharset[v-1]
		} else {
			b[i] = '?'
		}
	}
	return string(b)
}

// mazeEnds returns the start and goal cells of g, and an error unless there
// is exactly one of each.
func mazeEnds(g Grid) (start, goal int, err error) {
	start, goal = -1, -1
	for i, v := range g.Cells {
		switch v {
		case mazeStart:
			if start >= 0 {
				return -1, -1, fmt.Errorf("maze has two starts (cells %d and %d)", start, i)
			}
			start = i
		case mazeGoal:
			if goal >= 0 {
				return -1, -1, fmt.Errorf("maze has two goals (cells %d and %d)", goal, i)
			}
			goal = i
		}
	}
	if start < 0 || goal < 0 {
		return -1, -1, fmt.Errorf("maze lacks a start or a goal")
	}
	return start, goal, nil
}

// passable reports whether a walker may stand on cell value v.
func passable(v uint8) bool { return v != mazeWall && v >= mazeOpen && v <= mazePath }

// mazeDistances fills dist with BFS step counts from cell from over passable
// cells (-1 = unreachable), using queue as scratch; both have len(g.Cells).
func mazeDistances(g Grid, from int, dist, queue []int32) {
	for i := range dist {
		dist[i] = -1
	}
	dist[from] = 0
	queue[0] = int32(from)
	head, tail := 0, 1
	var nb [4]int
	for head < tail {
		i := int(queue[head])
		head++
		for _, j := range neighbours(i, g.H, g.W, &nb) {
			if dist[j] < 0 && passable(g.Cells[j]) {
				dist[j] = dist[i] + 1
				queue[tail] = int32(j)
				tail++
			}
		}
	}
}

// neighbours returns the in-bounds 4-neighbours of cell i in an h×w grid.
func neighbours(i, h, w int, out *[4]int) []int {
	r, c := i/w, i%w
	n := 0
	if r > 0 {
		out[n] = i - w
		n++
	}
	if r < h-1 {
		out[n] = i + w
		n++
	}
	if c > 0 {
		out[n] = i - 1
		n++
	}
	if c < w-1 {
		out[n] = i + 1
		n++
	}
	return out[:n]
}

// ShortestPath returns the number of steps of a shortest start–goal path in
// maze (-1 when the goal is unreachable) and how many distinct shortest
// paths there are, counted up to 2.
func ShortestPath(maze Grid) (steps, paths int, err error) {
	start, goal, err := mazeEnds(maze)
	if err != nil {
		return -1, 0, err
	}
	dist := make([]int32, len(maze.Cells))
	mazeDistances(maze, start, dist, make([]int32, len(maze.Cells)))
	if dist[goal] < 0 {
		return -1, 0, nil
	}
	// Count shortest paths layer by layer, saturating at 2.
	count := make([]int8, len(maze.Cells))
	count[start] = 1
	order := cellsByDistance(dist, int(dist[goal]))
	var nb [4]int
	for _, i := range order {
		if i == start {
			continue
		}
		for _, j := range neighbours(i, maze.H, maze.W, &nb) {
			if dist[j] == dist[i]-1 {
				count[i] = min(count[i]+count[j], 2)
			}
		}
	}
	return int(dist[goal]), int(count[goal]), nil
}

// cellsByDistance returns the cells with distance 0..limit, nearest first.
func cellsByDistance(dist []int32, limit int) []int {
	buckets := make([][]int, limit+1)
	for i, d := range dist {
		if d >= 0 && int(d) <= limit {
			buckets[d] = append(buckets[d], i)
		}
	}
	var out []int
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}

// CheckMazePath judges a predicted label for maze: valid when pred keeps
// every wall, start and goal, marks path only on open cells, and its path
// cells form one simple start–goal path (each path cell has exactly two
// path-or-end neighbours, the ends one); optimal when it is also as short
// as a shortest path. Any optimal path counts, not just the stored one.
func CheckMazePath(maze, pred Grid) (valid, optimal bool) {
	if pred.H != maze.H || pred.W != maze.W || len(pred.Cells) != len(maze.Cells) {
		return false, false
	}
	start, goal, err := mazeEnds(maze)
	if err != nil {
		return false, false
	}
	pathCells := 0
	for i, m := range maze.Cells {
		p := pred.Cells[i]
		switch {
		case m == mazeOpen && p == mazePath:
			pathCells++
		case m != p:
			return false, false
		}
	}
	onPath := func(i int) bool { return pred.Cells[i] == mazePath || i == start || i == goal }
	if !pathDegrees(pred, start, goal, onPath) || walk(pred, start, goal, onPath) != pathCells+2 {
		return false, false
	}
	steps, _, _ := ShortestPath(maze)
	return true, pathCells+1 == steps
}

// pathDegrees reports whether every path cell has two path neighbours and
// the ends one each.
func pathDegrees(g Grid, start, goal int, onPath func(int) bool) bool {
	var nb [4]int
	for i := range g.Cells {
		if !onPath(i) {
			continue
		}
		deg := 0
		for _, j := range neighbours(i, g.H, g.W, &nb) {
			if onPath(j) {
				deg++
			}
		}
		want := 2
		if i == start || i == goal {
			want = 1
		}
		if deg != want {
			return false
		}
	}
	return true
}

// walk follows the path from start, whose degrees pathDegrees has checked,
// and returns how many cells it visits up to the goal. Degrees alone allow a
// separate ring of path cells; the count exposes it.
func walk(g Grid, start, goal int, onPath func(int) bool) int {
	var nb [4]int
	prev, cur, seen := -1, start, 1
	for cur != goal {
		next := -1
		for _, j := range neighbours(cur, g.H, g.W, &nb) {
			if j != prev && onPath(j) {
				next = j
				break
			}
		}
		if next < 0 {
			return -1 // unreachable after pathDegrees; kept so a bug cannot loop
		}
		prev, cur = cur, next
		seen++
	}
	return seen
}
