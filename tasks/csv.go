package tasks

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
)

// The papers' Sudoku-Extreme and Maze-Hard files share one CSV shape: a
// header naming the columns source, question, answer and rating, then one
// puzzle per row (HRM dataset/build_{sudoku,maze}_dataset.py).

// csvRow is one puzzle row: its line in the file, question and answer.
type csvRow struct {
	line             int
	question, answer string
}

// readPuzzleCSV reads every row of r (called name in errors), checks each
// with parse, and keeps a uniform random subsample of keep rows chosen by
// rng (keep = 0 keeps all), in file order. parse sees every row, so a
// malformed row is an error even when it would not have been sampled.
func readPuzzleCSV[T any](r io.Reader, name string, keep int, rng *rand.Rand, parse func(csvRow) (T, error)) ([]T, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: read header: %w", name, err)
	}
	qCol, aCol := slices.Index(header, "question"), slices.Index(header, "answer")
	if qCol < 0 || aCol < 0 {
		return nil, fmt.Errorf("%s: header %q lacks question and answer columns", name, header)
	}
	type kept struct {
		line int
		item T
	}
	var sample []kept
	seen := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) <= max(qCol, aCol) {
			return nil, fmt.Errorf("%s:%d: %d fields, want at least %d", name, line, len(rec), max(qCol, aCol)+1)
		}
		item, err := parse(csvRow{line: line, question: rec[qCol], answer: rec[aCol]})
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		seen++
		// Reservoir sampling keeps a uniform subsample in one pass, so the
		// 3.8M-row Sudoku-Extreme train file never sits in memory.
		switch {
		case keep <= 0 || len(sample) < keep:
			sample = append(sample, kept{line, item})
		default:
			if j := rng.IntN(seen); j < keep {
				sample[j] = kept{line, item}
			}
		}
	}
	slices.SortFunc(sample, func(a, b kept) int { return a.line - b.line })
	out := make([]T, len(sample))
	for i, k := range sample {
		out[i] = k.item
	}
	return out, nil
}

// LoadSudokuCSV reads a Sudoku-Extreme CSV file: question and answer
// columns of N×N characters, '.' or '0' for blanks. keep > 0 keeps a uniform
// random subsample of that many puzzles chosen by rng (the papers train on
// 1000). Every answer must be a solved grid agreeing with its question.
func LoadSudokuCSV(path string, keep int, rng *rand.Rand) ([]SudokuPuzzle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load sudoku csv: %w", err)
	}
	defer f.Close()
	return ReadSudokuCSV(f, path, keep, rng)
}

// ReadSudokuCSV is LoadSudokuCSV on a reader; name labels errors.
func ReadSudokuCSV(r io.Reader, name string, keep int, rng *rand.Rand) ([]SudokuPuzzle, error) {
	size := 0
	return readPuzzleCSV(r, name, keep, rng, func(row csvRow) (SudokuPuzzle, error) {
		q, err := parseSudoku(row.question)
		if err != nil {
			return SudokuPuzzle{}, fmt.Errorf("question: %w", err)
		}
		a, err := parseSudoku(row.answer)
		if err != nil {
			return SudokuPuzzle{}, fmt.Errorf("answer: %w", err)
		}
		if size == 0 {
			size = q.N
		}
		switch {
		case q.N != size || a.N != size:
			return SudokuPuzzle{}, fmt.Errorf("sudoku side %d/%d, earlier rows have %d", q.N, a.N, size)
		case !a.Solved():
			return SudokuPuzzle{}, fmt.Errorf("answer is not a solved sudoku")
		case !a.Consistent(q):
			return SudokuPuzzle{}, fmt.Errorf("answer disagrees with a given of the question")
		}
		return SudokuPuzzle{Puzzle: q, Solution: a}, nil
	})
}

// parseSudoku decodes 16, 36 or 81 characters: digits, '.' or '0' blank.
func parseSudoku(s string) (Sudoku, error) {
	var n int
	switch len(s) {
	case 16:
		n = 4
	case 36:
		n = 6
	case 81:
		n = 9
	default:
		return Sudoku{}, fmt.Errorf("%d characters, want 16, 36 or 81", len(s))
	}
	out := Sudoku{N: n, Cells: make([]uint8, len(s))}
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '.':
		case ch >= '0' && int(ch-'0') <= n:
			out.Cells[i] = ch - '0'
		default:
			return Sudoku{}, fmt.Errorf("character %q at %d: want '.' or 0..%d", ch, i, n)
		}
	}
	return out, nil
}

// LoadMazeCSV reads a Maze-Hard CSV file: question and answer columns of
// N×N characters of "# SGo". keep > 0 keeps a uniform random subsample of
// that many mazes chosen by rng. Every answer must mark a valid shortest
// path of its question.
func LoadMazeCSV(path string, keep int, rng *rand.Rand) ([]MazePuzzle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load maze csv: %w", err)
	}
	defer f.Close()
	return ReadMazeCSV(f, path, keep, rng)
}

// ReadMazeCSV is LoadMazeCSV on a reader; name labels errors.
func ReadMazeCSV(r io.Reader, name string, keep int, rng *rand.Rand) ([]MazePuzzle, error) {
	size := 0
	return readPuzzleCSV(r, name, keep, rng, func(row csvRow) (MazePuzzle, error) {
		q, err := ParseMaze(row.question)
		if err != nil {
			return MazePuzzle{}, fmt.Errorf("question: %w", err)
		}
		a, err := ParseMaze(row.answer)
		if err != nil {
			return MazePuzzle{}, fmt.Errorf("answer: %w", err)
		}
		if size == 0 {
			size = q.H
		}
		if q.H != size || a.H != size {
			return MazePuzzle{}, fmt.Errorf("maze side %d/%d, earlier rows have %d", q.H, a.H, size)
		}
		if _, _, err := mazeEnds(q); err != nil {
			return MazePuzzle{}, fmt.Errorf("question: %w", err)
		}
		for _, v := range q.Cells {
			if v == mazePath {
				return MazePuzzle{}, fmt.Errorf("question marks a path cell")
			}
		}
		if _, optimal := CheckMazePath(q, a); !optimal {
			return MazePuzzle{}, fmt.Errorf("answer is not a shortest path of the question")
		}
		return MazePuzzle{Maze: q, Solution: a}, nil
	})
}
