package tasks

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func mustMaze(t testing.TB, rows ...string) Grid {
	t.Helper()
	g, err := ParseMaze(strings.Join(rows, ""))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Property: every generated label is a shortest path, the only one, and
// long enough.
func TestGenerateMazeLabelsAreShortestPaths(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	tests := []struct{ n, minPath, count int }{
		{9, 12, 40},
		{15, 40, 20},
		{30, 110, 4},
	}
	for _, tt := range tests {
		for i := 0; i < tt.count; i++ {
			p, err := GenerateMaze(rng, tt.n, tt.minPath)
			if err != nil {
				t.Fatal(err)
			}
			steps, paths, err := ShortestPath(p.Maze)
			if err != nil {
				t.Fatal(err)
			}
			if steps < tt.minPath || paths != 1 {
				t.Fatalf("%d×%d maze: shortest path %d steps, %d of them; want ≥ %d, 1:\n%s", tt.n, tt.n, steps, paths, tt.minPath, FormatMaze(p.Maze))
			}
			if valid, optimal := CheckMazePath(p.Maze, p.Solution); !valid || !optimal {
				t.Fatalf("%d×%d label: valid=%v optimal=%v, want both", tt.n, tt.n, valid, optimal)
			}
		}
	}
	if _, err := GenerateMaze(rng, 4, 100); err == nil {
		t.Fatalf("4×4 maze with a 100-step path: got no error")
	}
}

func TestCheckMazePath(t *testing.T) {
	maze := mustMaze(t,
		"S  ",
		" # ",
		"  G")
	tests := []struct {
		name           string
		pred           []string
		valid, optimal bool
	}{
		{"top-right route", []string{"Soo", " #o", "  G"}, true, true},
		{"bottom-left route, also optimal", []string{"S  ", "o# ", "ooG"}, true, true},
		{"broken path", []string{"So ", " #o", "  G"}, false, false},
		{"walks through a wall", []string{"S  ", "oo ", " oG"}, false, false},
		{"moves the goal", []string{"Soo", " #o", "  o"}, false, false},
		{"extra path cell", []string{"Soo", " #o", "o G"}, false, false},
		{"empty prediction", []string{"S  ", " # ", "  G"}, false, false},
	}
	for _, tt := range tests {
		pred := mustMaze(t, tt.pred...)
		if valid, optimal := CheckMazePath(maze, pred); valid != tt.valid || optimal != tt.optimal {
			t.Fatalf("%s: valid=%v optimal=%v, want %v %v", tt.name, valid, optimal, tt.valid, tt.optimal)
		}
	}
	long := mustMaze(t,
		"S   ",
		"### ",
		"    ",
		"G## ")
	detour := mustMaze(t,
		"Sooo",
		"###o",
		"oooo",
		"G## ")
	if valid, optimal := CheckMazePath(long, detour); !valid || !optimal {
		t.Fatalf("only route: valid=%v optimal=%v, want true true", valid, optimal)
	}
	open := mustMaze(t,
		"S   ",
		"    ",
		"    ",
		"   G")
	wander := mustMaze(t,
		"Sooo",
		"   o",
		"ooo ",
		"o  G")
	if valid, _ := CheckMazePath(open, wander); valid {
		t.Fatalf("disconnected path: valid=true, want false")
	}
	longWay := mustMaze(t,
		"S  o",
		"o oo",
		"ooo ",
		"   G")
	if valid, _ := CheckMazePath(open, longWay); valid {
		t.Fatalf("path ending beside the goal: valid=true, want false")
	}
	snake := mustMaze(t,
		"Sooo",
		"   o",
		"   o",
		"   G")
	if valid, optimal := CheckMazePath(open, snake); !valid || !optimal {
		t.Fatalf("edge route: valid=%v optimal=%v, want true true", valid, optimal)
	}
	zigzag := mustMaze(t,
		"So  ",
		" o  ",
		" ooo",
		"   G")
	if valid, optimal := CheckMazePath(open, zigzag); !valid || !optimal {
		t.Fatalf("zigzag: valid=%v optimal=%v, want true true", valid, optimal)
	}
	// Degrees alone would pass a right path plus a separate ring of path
	// cells.
	field := mustMaze(t,
		"S    ",
		"     ",
		"    G",
		"     ",
		"     ")
	ring := mustMaze(t,
		"Soo  ",
		"  o  ",
		"  ooG",
		"oo   ",
		"oo   ")
	if valid, _ := CheckMazePath(field, ring); valid {
		t.Fatalf("path with a stray ring: valid=true, want false")
	}
}

func TestShortestPathCounts(t *testing.T) {
	tests := []struct {
		rows         []string
		steps, paths int
	}{
		{[]string{"S  ", " # ", "  G"}, 4, 2},
		{[]string{"S##", " ##", "  G"}, 4, 1},
		{[]string{"S#", "#G"}, -1, 0},
	}
	for _, tt := range tests {
		steps, paths, err := ShortestPath(mustMaze(t, tt.rows...))
		if err != nil || steps != tt.steps || paths != tt.paths {
			t.Fatalf("%q: steps=%d paths=%d err=%v, want %d %d", tt.rows, steps, paths, err, tt.steps, tt.paths)
		}
	}
	if _, _, err := ShortestPath(mustMaze(t, "SS", "G ")); err == nil {
		t.Fatalf("two starts: got no error")
	}
}

// Property: a dihedral transform of a maze and its label is a maze whose
// label is still its unique shortest path.
func TestMazeAugmentKeepsShortestPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 40; i++ {
		p, err := GenerateMaze(rng, 10, 10)
		if err != nil {
			t.Fatal(err)
		}
		d := Dihedral(i % NumDihedral)
		m, s := d.Apply(p.Maze), d.Apply(p.Solution)
		if valid, optimal := CheckMazePath(m, s); !valid || !optimal {
			t.Fatalf("%v: label valid=%v optimal=%v, want true true", d, valid, optimal)
		}
	}
}
