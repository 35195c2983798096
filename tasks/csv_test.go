package tasks

import (
	"fmt"
	"math/rand/v2"
	"os"
	"outerloop/experiments"
	"path/filepath"
	"strings"
	"testing"
)

// sudokuCSV renders puzzles in the Sudoku-Extreme format ('.' blanks).
func sudokuCSV(ps []SudokuPuzzle) string {
	var b strings.Builder
	b.WriteString("source,question,answer,rating\n")
	for i, p := range ps {
		q := strings.Map(func(r rune) rune {
			if r == '0' {
				return '.'
			}
			return r
		}, digits(p.Puzzle))
		fmt.Fprintf(&b, "gen%d,%s,%s,%d\n", i, q, digits(p.Solution), p.Guesses)
	}
	return b.String()
}

func digits(s Sudoku) string {
	b := make([]byte, len(s.Cells))
	for i, v := range s.Cells {
		b[i] = '0' + v
	}
	return string(b)
}

func mazeCSV(ps []MazePuzzle) string {
	var b strings.Builder
	b.WriteString("source,question,answer,rating\n")
	for i, p := range ps {
		fmt.Fprintf(&b, "gen%d,%s,%s,0\n", i, FormatMaze(p.Maze), FormatMaze(p.Solution))
	}
	return b.String()
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSudokuCSV(t *testing.T) {
	ps, _, err := generateSudokus(9, 12, 0, 0, 0, 1, experiments.DistinctExact)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "train.csv"), sudokuCSV(ps))
	all, err := LoadSudokuCSV(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(ps) {
		t.Fatalf("loaded %d puzzles, want %d", len(all), len(ps))
	}
	for i := range ps {
		if !sameCells(all[i].Puzzle, ps[i].Puzzle) || !sameCells(all[i].Solution, ps[i].Solution) {
			t.Fatalf("puzzle %d differs after a round trip", i)
		}
	}
	sub1, err := LoadSudokuCSV(path, 5, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	sub2, _ := LoadSudokuCSV(path, 5, rand.New(rand.NewPCG(1, 1)))
	if len(sub1) != 5 {
		t.Fatalf("subsample has %d puzzles, want 5", len(sub1))
	}
	last := -1
	for i, p := range sub1 {
		if !sameCells(p.Puzzle, sub2[i].Puzzle) {
			t.Fatalf("subsample differs between runs with one seed")
		}
		k := indexOfPuzzle(all, p)
		if k <= last {
			t.Fatalf("subsample not a subset in file order: index %d after %d", k, last)
		}
		last = k
	}
}

func indexOfPuzzle(ps []SudokuPuzzle, p SudokuPuzzle) int {
	for i, q := range ps {
		if sameCells(q.Puzzle, p.Puzzle) {
			return i
		}
	}
	return -1
}

func TestReadSudokuCSVErrors(t *testing.T) {
	header := "source,question,answer,rating\n"
	tests := []struct {
		name, csv, want string
	}{
		{"no question column", "source,q,answer\nx,1,2\n", "lacks question and answer"},
		{"short row", header + "x\n", "s.csv:2: 1 fields"},
		{"bad length", header + "x,123,123,0\n", "s.csv:2: question: 3 characters"},
		{"bad character", header + "x," + strings.Replace(classicPuzzle, ".", "x", 1) + "," + classicSolution + ",0\n", "s.csv:2: question: character 'x'"},
		{"unsolved answer", header + "x," + classicPuzzle + "," + strings.Replace(classicSolution, "5", "6", 1) + ",0\n", "answer is not a solved sudoku"},
		{"answer ignores a given", header + "x," + "6" + classicPuzzle[1:] + "," + classicSolution + ",0\n", "disagrees with a given"},
		{"mixed sizes", header + "x," + classicPuzzle + "," + classicSolution + ",0\ny,1234341221434321,1234341221434321,0\n", "s.csv:3: sudoku side 4/4, earlier rows have 9"},
		{"unterminated quote", header + "x,\"" + classicPuzzle + "," + classicSolution + "\n", "s.csv"},
	}
	for _, tt := range tests {
		_, err := ReadSudokuCSV(strings.NewReader(tt.csv), "s.csv", 0, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadMazeCSV(t *testing.T) {
	ps, _, err := generateMazes(10, 6, 0, 12, 1, experiments.DistinctExact)
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "test.csv"), mazeCSV(ps))
	got, err := LoadMazeCSV(path, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if !got[i].Maze.Equal(ps[i].Maze) || !got[i].Solution.Equal(ps[i].Solution) {
			t.Fatalf("maze %d differs after a round trip", i)
		}
	}
	if _, err := LoadMazeCSV(filepath.Join(t.TempDir(), "none.csv"), 0, nil); err == nil {
		t.Fatalf("missing file: got no error")
	}
}

func TestReadMazeCSVErrors(t *testing.T) {
	header := "source,question,answer,rating\n"
	tests := []struct {
		name, csv, want string
	}{
		{"not square", header + "x,S G,SoG,0\n", "m.csv:2: question: maze of 3 characters"},
		{"bad character", header + "x,S  x,S  x,0\n", "character 'x'"},
		{"two starts", header + "x,S SG,SoSG,0\n", "two starts"},
		{"path in question", header + "x,SoG ,SoG ,0\n", "question marks a path cell"},
		{"answer not a path", header + "x,S  G,S  G,0\n", "not a shortest path"},
		{"answer valid but long", header + "x,S" + strings.Repeat(" ", 23) + "G," + "S ooo" + "o o o" + "ooo o" + "    o" + "    G" + ",0\n", "not a shortest path"},
	}
	for _, tt := range tests {
		_, err := ReadMazeCSV(strings.NewReader(tt.csv), "m.csv", 0, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	// A valid but longer path is not the shortest one.
	q := "S   " + " ## " + " ## " + "   G"
	long := "Sooo" + " ##o" + " ##o" + "   G"
	if _, err := ReadMazeCSV(strings.NewReader(header+"x,"+q+","+long+",0\n"), "m.csv", 0, nil); err != nil {
		t.Fatalf("an optimal path around the other side: %v", err)
	}
	longer := "S   " + "o## " + "o## " + "oooG"
	if _, err := ReadMazeCSV(strings.NewReader(header+"x,"+q+","+longer+",0\n"), "m.csv", 0, nil); err != nil {
		t.Fatalf("the mirror optimal path: %v", err)
	}
}
