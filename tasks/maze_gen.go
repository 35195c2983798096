package tasks

import (
	"fmt"
	"math/rand/v2"
	"outerloop/experiments"
)

// Wall density range of generated mazes. Random walls near the site
// percolation threshold (~41% walls) leave open regions whose shortest paths
// wind far longer than the Manhattan distance, which is what makes Maze-Hard
// hard (HRM filters for paths > 110 on 30×30, against a Manhattan maximum of
// 58); denser mazes fragment, sparser ones have short straight paths.
const (
	mazeDensityLo = 0.36
	mazeDensityHi = 0.44
)

// maxMazeAttempts bounds the random wall layouts GenerateMaze tries.
const maxMazeAttempts = 5000

// GenerateMaze makes an n×n maze with one start and one goal whose shortest
// path has at least minPath steps, and its label. Walls are random (density
// in [0.36, 0.44]); the start is one end of a longest shortest path of a
// random open region and the goal a random cell at least minPath steps away.
// The shortest path is then made unique by walling cells of competing
// equally short paths, so the label is the only right answer while scoring
// still accepts any optimal path.
func GenerateMaze(rng *rand.Rand, n, minPath int) (MazePuzzle, error) {
	if n < 2 || n > 255 {
		return MazePuzzle{}, fmt.Errorf("maze size %d: want 2..255", n)
	}
	if minPath < 1 {
		minPath = 1
	}
	g := NewGrid(n, n)
	dist := make([]int32, n*n)
	queue := make([]int32, n*n)
	for attempt := 0; attempt < maxMazeAttempts; attempt++ {
		density := mazeDensityLo + (mazeDensityHi-mazeDensityLo)*rng.Float64()
		open := 0
		for i := range g.Cells {
			g.Cells[i] = mazeOpen
			if rng.Float64() < density {
				g.Cells[i] = mazeWall
			} else {
				open++
			}
		}
		if open < 2 {
			continue
		}
		// Two BFS sweeps find a near-diameter of the region around a random
		// open cell: the farthest cell from anywhere is an end of a long path.
		seed := randomCellWith(rng, g, mazeOpen)
		mazeDistances(g, seed, dist, queue)
		start := farthest(rng, dist)
		mazeDistances(g, start, dist, queue)
		goal := randomCellAtLeast(rng, dist, minPath)
		if goal < 0 {
			continue
		}
		g.Cells[start], g.Cells[goal] = mazeStart, mazeGoal
		return uniqueShortestPath(rng, g, start, goal, dist, queue), nil
	}
	return MazePuzzle{}, fmt.Errorf("no %d×%d maze with a path of ≥ %d steps in %d attempts", n, n, minPath, maxMazeAttempts)
}

// randomCellWith returns a uniformly random cell holding v (one exists).
func randomCellWith(rng *rand.Rand, g Grid, v uint8) int {
	for {
		if i := rng.IntN(len(g.Cells)); g.Cells[i] == v {
			return i
		}
	}
}

// farthest returns a random cell among those at the largest distance.
func farthest(rng *rand.Rand, dist []int32) int {
	best, pick, ties := int32(-1), -1, 0
	for i, d := range dist {
		switch {
		case d > best:
			best, pick, ties = d, i, 1
		case d == best:
			ties++
			if rng.IntN(ties) == 0 {
				pick = i
			}
		}
	}
	return pick
}

// randomCellAtLeast returns a random cell at distance ≥ min, or -1.
func randomCellAtLeast(rng *rand.Rand, dist []int32, min int) int {
	pick, seen := -1, 0
	for i, d := range dist {
		if int(d) >= min {
			seen++
			if rng.IntN(seen) == 0 {
				pick = i
			}
		}
	}
	return pick
}

// uniqueShortestPath picks a random shortest start–goal path in g, walls
// cells of other shortest paths one at a time until it is the only one, and
// returns the maze with its label. dist holds distances from start.
func uniqueShortestPath(rng *rand.Rand, g Grid, start, goal int, dist, queue []int32) MazePuzzle {
	n := len(g.Cells)
	toGoal := make([]int32, n)
	steps := dist[goal]
	path := make([]bool, n)
	var nb [4]int
	// Walk back from the goal through random predecessors.
	for i := goal; i != start; {
		path[i] = true
		var preds []int
		for _, j := range neighbours(i, g.H, g.W, &nb) {
			if dist[j] == dist[i]-1 {
				preds = append(preds, j)
			}
		}
		i = preds[rng.IntN(len(preds))]
	}
	path[start] = true
	for {
		mazeDistances(g, goal, toGoal, queue)
		var rivals []int
		for i := 0; i < n; i++ {
			if !path[i] && dist[i] >= 0 && toGoal[i] >= 0 && dist[i]+toGoal[i] == steps {
				rivals = append(rivals, i)
			}
		}
		if len(rivals) == 0 {
			break
		}
		g.Cells[rivals[rng.IntN(len(rivals))]] = mazeWall
		mazeDistances(g, start, dist, queue)
	}
	sol := g.Clone()
	for i, on := range path {
		if on && i != start && i != goal {
			sol.Cells[i] = mazePath
		}
	}
	return MazePuzzle{Maze: g.Clone(), Solution: sol}
}

// generateMazes makes train+test distinct mazes (up to the 8 symmetries of
// the square with distinct = symmetry), item i from its own random stream;
// the first train go to training, the rest to test.
func generateMazes(n, train, test, minPath int, seed int64, distinct experiments.Distinct) (tr, te []MazePuzzle, err error) {
	want := train + test
	seen := make(map[uint64]bool, want)
	key := func(p MazePuzzle) uint64 { return p.Maze.hash() }
	if distinct == experiments.DistinctSymmetry {
		key = func(p MazePuzzle) uint64 { return MazeCanonical(p.Maze) }
	}
	all := make([]MazePuzzle, 0, want)
	gen := func(i int) (MazePuzzle, error) { return GenerateMaze(itemRNG(seed, 2, i), n, minPath) }
	accept := func(p MazePuzzle) bool {
		if h := key(p); !seen[h] {
			seen[h] = true
			all = append(all, p)
		}
		return len(all) >= want
	}
	if want > 0 {
		if err := generateOrdered(attemptBudget(want), gen, accept); err != nil {
			return nil, nil, fmt.Errorf("generate %d distinct %d×%d mazes (found %d): %w", want, n, n, len(all), err)
		}
	}
	return all[:train], all[train:], nil
}
