package tasks

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"outerloop/experiments"
)

func mustBuild(t testing.TB, cfg experiments.TaskConfig, cacheDir, baseDir string) *Dataset {
	t.Helper()
	d, err := Build(cfg, cacheDir, baseDir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// splitSamples returns every sample of s (inputs and labels, concatenated).
func splitSamples(s *Split, seqLen int) (inputs, labels []int32, ids []int32) {
	inputs = make([]int32, s.Len()*seqLen)
	labels = make([]int32, s.Len()*seqLen)
	for i := 0; i < s.Len(); i++ {
		ids = append(ids, s.Get(i, inputs[i*seqLen:(i+1)*seqLen], labels[i*seqLen:(i+1)*seqLen]))
	}
	return inputs, labels, ids
}

func TestBuildSudoku(t *testing.T) {
	cfg := experiments.TaskConfig{Name: "sudoku", Source: "generate", Size: 4, Train: 200, Test: 50, Augment: 16, Seed: 7}
	d := mustBuild(t, cfg, "", ".")
	if d.Name != "sudoku-4" || d.Vocab != 6 || d.SeqLen != 16 || d.NumPuzzleIDs != 1 || d.Train.Len() != 200 || d.Test.Len() != 50 {
		t.Fatalf("got %s vocab %d seq %d ids %d train %d test %d, want sudoku-4 6 16 1 200 50",
			d.Name, d.Vocab, d.SeqLen, d.NumPuzzleIDs, d.Train.Len(), d.Test.Len())
	}
	// Every sample, plain or drawn with augmentation, is a puzzle whose
	// label is its unique solution, with all cells labelled.
	rng := rand.New(rand.NewPCG(1, 1))
	in, lab := make([]int32, 16), make([]int32, 16)
	for i := 0; i < 300; i++ {
		var id int32
		if i < d.Test.Len() {
			id = d.Test.Get(i, in, lab)
		} else {
			id = d.Train.Draw(rng, in, lab)
		}
		p, sol := sudokuFromTokens(4, in), sudokuFromTokens(4, lab)
		res, _ := SolveSudoku(p, 2)
		if id != 0 || res.Solutions != 1 || !sameCells(res.Solution, sol) {
			t.Fatalf("sample %d: id %d, %d solutions, label %v, want id 0 and the unique solution %v", i, id, res.Solutions, sol.Cells, res.Solution.Cells)
		}
	}
	again := mustBuild(t, cfg, "", ".")
	a, _, _ := splitSamples(d.Train, 16)
	b, _, _ := splitSamples(again.Train, 16)
	if string(int32Bytes(a)) != string(int32Bytes(b)) {
		t.Fatalf("two builds of one spec differ")
	}
}

func int32Bytes(xs []int32) []byte {
	out := make([]byte, len(xs))
	for i, x := range xs {
		out[i] = byte(x)
	}
	return out
}

// Sudoku variants are a fixed set per puzzle: with Augment = 2, drawing
// many times shows at most 3 versions of each puzzle.
func TestSudokuDrawVariantCount(t *testing.T) {
	d := mustBuild(t, experiments.TaskConfig{Name: "sudoku", Size: 9, Train: 3, Test: 1, Augment: 2, Seed: 1}, "", ".")
	rng := rand.New(rand.NewPCG(2, 2))
	in, lab := make([]int32, 81), make([]int32, 81)
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		d.Train.Draw(rng, in, lab)
		seen[string(int32Bytes(in))] = true
	}
	if len(seen) != 9 {
		t.Fatalf("drew %d distinct samples, want 9 (3 puzzles × 3 variants)", len(seen))
	}
}

func TestBuildMaze(t *testing.T) {
	cfg := experiments.TaskConfig{Name: "maze", Size: 9, Train: 100, Test: 30, Augment: 7, MinPath: 10, Seed: 2}
	d := mustBuild(t, cfg, "", ".")
	if d.Name != "maze-9" || d.Vocab != 6 || d.SeqLen != 81 {
		t.Fatalf("got %s vocab %d seq %d, want maze-9 6 81", d.Name, d.Vocab, d.SeqLen)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	in, lab := make([]int32, 81), make([]int32, 81)
	seen := map[string]bool{}
	for i := 0; i < 400; i++ {
		d.Train.Draw(rng, in, lab)
		seen[string(int32Bytes(in))] = true
		maze, sol := tokenGrid(9, in), tokenGrid(9, lab)
		steps, paths, err := ShortestPath(maze)
		valid, optimal := CheckMazePath(maze, sol)
		if err != nil || steps < 10 || paths != 1 || !valid || !optimal {
			t.Fatalf("drawn maze: steps %d paths %d err %v valid %v optimal %v", steps, paths, err, valid, optimal)
		}
	}
	if len(seen) <= 100 {
		t.Fatalf("drew %d distinct mazes from 100 with 8 transforms, want more than 100", len(seen))
	}
}

func TestBuildFromCSV(t *testing.T) {
	ps, _, err := generateSudokus(6, 12, 0, 0, 0, 5, experiments.DistinctExact)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	// The test file repeats two training puzzles: they leave training.
	writeFile(t, filepath.Join(base, "data", "train.csv"), sudokuCSV(ps[:10]))
	writeFile(t, filepath.Join(base, "data", "test.csv"), sudokuCSV(ps[8:]))
	d := mustBuild(t, experiments.TaskConfig{Name: "sudoku", Source: "data", Size: 6, Seed: 1}, "", base)
	if d.Train.Len() != 8 || d.Test.Len() != 4 || d.Dropped != 2 {
		t.Fatalf("train %d test %d dropped %d, want 8 4 2", d.Train.Len(), d.Test.Len(), d.Dropped)
	}
	d = mustBuild(t, experiments.TaskConfig{Name: "sudoku", Source: "data", Train: 5, Test: 1, Seed: 1}, "", base)
	if d.Train.Len() > 5 || d.Test.Len() != 1 {
		t.Fatalf("subsampled train %d test %d, want ≤ 5 and 1", d.Train.Len(), d.Test.Len())
	}
	mazes, _, err := generateMazes(8, 6, 0, 8, 5, experiments.DistinctExact)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(base, "maze", "train.csv"), mazeCSV(mazes[:4]))
	writeFile(t, filepath.Join(base, "maze", "test.csv"), mazeCSV(mazes[4:]))
	d = mustBuild(t, experiments.TaskConfig{Name: "maze", Source: filepath.Join(base, "maze"), Size: 8}, "", "/elsewhere")
	if d.Train.Len() != 4 || d.Test.Len() != 2 || d.Name != "maze-8" {
		t.Fatalf("maze csv: %s train %d test %d, want maze-8 4 2", d.Name, d.Train.Len(), d.Test.Len())
	}
}

func TestBuildErrors(t *testing.T) {
	base := t.TempDir()
	writeFile(t, filepath.Join(base, "s", "train.csv"), "source,question,answer,rating\nx,"+classicPuzzle+","+classicSolution+",0\n")
	writeFile(t, filepath.Join(base, "s", "test.csv"), "source,question,answer,rating\nx,"+classicPuzzle+","+classicSolution+",0\n")
	tests := []struct {
		name string
		cfg  experiments.TaskConfig
		want string
	}{
		{"unknown task", experiments.TaskConfig{Name: "chess", Train: 1, Test: 1}, `task.name "chess"`},
		{"sudoku size", experiments.TaskConfig{Name: "sudoku", Size: 5, Train: 1, Test: 1}, "task.size: sudoku size 5"},
		{"nothing to generate", experiments.TaskConfig{Name: "maze", Size: 9, Test: 1}, "generated data needs both > 0"},
		{"negative", experiments.TaskConfig{Name: "maze", Size: 9, Train: -1, Test: 1}, "want ≥ 0"},
		{"missing source", experiments.TaskConfig{Name: "sudoku", Source: "nope"}, "task.source"},
		{"arc without data", experiments.TaskConfig{Name: "arc", Train: 1, Test: 1}, "arc needs a path"},
		{"arc-lite family", experiments.TaskConfig{Name: "arc-lite", Size: 8, Train: 1, Test: 1, Families: []string{"spiral"}}, `"spiral" is not one of`},
		{"arc-lite size", experiments.TaskConfig{Name: "arc-lite", Size: 40, Train: 1, Test: 1}, "arc-lite size 40"},
		{"size mismatch", experiments.TaskConfig{Name: "sudoku", Source: "s", Size: 4}, "task.size 4: the data is 9×9"},
		{"all test in train", experiments.TaskConfig{Name: "sudoku", Source: "s"}, "0 train and 1 test samples"},
		{"csv file, not folder", experiments.TaskConfig{Name: "sudoku", Source: "s/train.csv"}, "want a folder holding train.csv"},
		{"impossible maze", experiments.TaskConfig{Name: "maze", Size: 5, MinPath: 100, Train: 1, Test: 1}, "no 5×5 maze"},
	}
	for _, tt := range tests {
		_, err := Build(tt.cfg, "", base)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestScoreSudoku(t *testing.T) {
	// A puzzle with 12 solutions, labelled with one: another solution is
	// a valid solution without being an exact match.
	p := mustSudoku(t, "1234"+strings.Repeat(".", 12))
	res, _ := SolveSudoku(p, 2)
	other := SudokuTransform{Digits: []uint8{0, 1, 2, 3, 4}, Rows: []uint8{0, 1, 3, 2}, Cols: []uint8{0, 1, 2, 3}}.Apply(res.Solution)
	rows := [][2][]uint8{{p.Tokens(nil), res.Solution.Tokens(nil)}}
	d := newTokenDataset("t", kindSudoku, 4, 6, rows, rows, 0, 0, 0)
	toPreds := func(s Sudoku) []int32 {
		out := make([]int32, 16)
		for i, v := range s.Tokens(nil) {
			out[i] = int32(v)
		}
		return out
	}
	tests := []struct {
		name         string
		pred         []int32
		exact, valid float64
	}{
		{"the label", toPreds(res.Solution), 1, 1},
		{"another solution", toPreds(other), 0, 1},
		{"the puzzle itself", toPreds(p), 0, 0},
		{"garbage tokens", make([]int32, 16), 0, 0},
	}
	for _, tt := range tests {
		m := d.Score(d.Test, tt.pred, nil)
		if m[MetricExact] != tt.exact || m[MetricValidSolution] != tt.valid {
			t.Fatalf("%s: %v, want exact %v valid %v", tt.name, m, tt.exact, tt.valid)
		}
	}
}

func TestScoreMaze(t *testing.T) {
	maze := mustMaze(t, "S  ", " # ", "  G")
	label := mustMaze(t, "Soo", " #o", "  G")
	other := mustMaze(t, "S  ", "o# ", "ooG")
	rows := [][2][]uint8{{maze.Cells, label.Cells}}
	d := newTokenDataset("t", kindMaze, 3, 6, rows, rows, 0, 0, 0)
	preds := func(g Grid) []int32 {
		out := make([]int32, len(g.Cells))
		for i, v := range g.Cells {
			out[i] = int32(v)
		}
		return out
	}
	m := d.Score(d.Test, preds(other), []float32{0.5})
	if m[MetricExact] != 0 || m[MetricOptimalPath] != 1 || m[MetricValidPath] != 1 {
		t.Fatalf("other optimal path: %v, want exact 0, optimal 1, valid 1", m)
	}
	if m := d.Score(d.Test, preds(label), nil); m[MetricExact] != 1 || m[MetricToken] != 1 {
		t.Fatalf("label: %v, want exact and token accuracy 1", m)
	}
	if m := d.Score(d.Test, nil, nil); len(m) != 0 {
		t.Fatalf("no predictions: %v, want no metrics", m)
	}
}

// Predictions may cover only the first samples (a capped evaluation).
func TestScorePrefix(t *testing.T) {
	d := mustBuild(t, experiments.TaskConfig{Name: "sudoku", Size: 4, Train: 10, Test: 10, Seed: 1}, "", ".")
	_, labels, _ := splitSamples(d.Test, d.SeqLen)
	preds := append([]int32(nil), labels[:4*d.SeqLen]...)
	preds[3*d.SeqLen] = 0 // break sample 3
	m := d.Score(d.Test, preds, nil)
	if m[MetricExact] != 0.75 {
		t.Fatalf("exact=%v over 4 samples with one wrong, want 0.75", m[MetricExact])
	}
}
