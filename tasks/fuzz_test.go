package tasks

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The loaders' fuzz targets: `go test -fuzz=FuzzParseTask ./tasks` explores
// malformed input; a plain `go test` runs the seed corpus. Each checks that
// nothing panics and that whatever loads satisfies the format's invariants.

func validARCGrid(g Grid) bool {
	if g.H < 1 || g.W < 1 || g.H > MaxARCSide || g.W > MaxARCSide || len(g.Cells) != g.H*g.W {
		return false
	}
	for _, v := range g.Cells {
		if v > 9 {
			return false
		}
	}
	return true
}

func FuzzParseTask(f *testing.F) {
	f.Add([]byte(`{"train": [{"input": [[1, 2]], "output": [[3], [4]]}], "test": [{"input": [[0]], "output": [[9]]}]}`))
	f.Add([]byte(`{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": []}`))
	f.Add([]byte(`{"train": [{"input": [[10]], "output": [[1]]}], "test": [{"input": [[1]]}]}`))
	f.Add([]byte(`{"train": null, "test": [{"input": [[]]}]}`))
	f.Add([]byte(`[1, 2, 3]`))
	f.Add([]byte(`{"train": [{"input": [[1e400]], "output": [[1]]}]`))
	if paths, _ := filepath.Glob(filepath.Join("..", "data", "arc-agi-1", "training", "0*.json")); len(paths) > 0 {
		for _, p := range paths[:min(3, len(paths))] {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		task, err := ParseTask("fuzz", data)
		if err != nil {
			return
		}
		if len(task.Train) == 0 || len(task.Test) == 0 {
			t.Fatalf("parsed a task with %d train and %d test pairs", len(task.Train), len(task.Test))
		}
		for _, p := range append(task.Train, task.Test...) {
			if !validARCGrid(p.Input) || !validARCGrid(p.Output) {
				t.Fatalf("parsed an invalid grid")
			}
			if got, ok := DecodeARC(EncodeARC(p.Input, MaxARCSide), MaxARCSide); !ok || !got.Equal(p.Input) {
				t.Fatalf("grid does not survive tokenisation")
			}
		}
	})
}

func FuzzParseCombined(f *testing.F) {
	f.Add([]byte(`{"a": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}}`), []byte(`{"a": [[[4]]]}`))
	f.Add([]byte(`{"a": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}}`), []byte(`{"a": [null]}`))
	f.Add([]byte(`{}`), []byte(`{"b": []}`))
	f.Fuzz(func(t *testing.T, challenges, solutions []byte) {
		tasks, err := ParseCombined(challenges, solutions)
		if err != nil {
			return
		}
		for _, task := range tasks {
			for _, p := range append(task.Train, task.Test...) {
				if !validARCGrid(p.Input) || !validARCGrid(p.Output) {
					t.Fatalf("task %s: parsed an invalid grid", task.ID)
				}
			}
		}
	})
}

func FuzzReadSudokuCSV(f *testing.F) {
	f.Add([]byte("source,question,answer,rating\nx," + classicPuzzle + "," + classicSolution + ",3\n"))
	f.Add([]byte("source,question,answer,rating\nx,1.3.............,1234341221434321,0\n"))
	f.Add([]byte("question,answer\n\"1234\",\"12\n"))
	f.Add([]byte("source,question,answer\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ReadSudokuCSV(bytes.NewReader(data), "fuzz.csv", 0, nil)
		if err != nil {
			return
		}
		for _, p := range ps {
			if p.Puzzle.check() != nil || !p.Solution.Solved() || !p.Solution.Consistent(p.Puzzle) {
				t.Fatalf("loaded an invalid puzzle %v / %v", p.Puzzle.Cells, p.Solution.Cells)
			}
		}
	})
}

func FuzzReadMazeCSV(f *testing.F) {
	f.Add([]byte("source,question,answer,rating\nx,S  G,SoG ,0\n"))
	f.Add([]byte("source,question,answer,rating\nx,S  " + " ## " + " ## " + "   G,Sooo ##o ##o   G,0\n"))
	f.Add([]byte("source,question,answer,rating\nx,S#G ,S#G ,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ReadMazeCSV(bytes.NewReader(data), "fuzz.csv", 0, nil)
		if err != nil {
			return
		}
		for _, p := range ps {
			if valid, optimal := CheckMazePath(p.Maze, p.Solution); !valid || !optimal {
				t.Fatalf("loaded a maze whose answer is not a shortest path")
			}
		}
	})
}

func FuzzDecodeARC(f *testing.F) {
	f.Add(bytes.Repeat([]byte{2}, 900))
	f.Add(make([]byte, 900))
	f.Add([]byte{2, 3, 1, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		toks := make([]int32, len(data))
		for i, b := range data {
			toks[i] = int32(int8(b))
		}
		g, ok := DecodeARC(toks, MaxARCSide)
		if ok && !validARCGrid(g) {
			t.Fatalf("decoded an invalid grid %d×%d", g.H, g.W)
		}
	})
}
