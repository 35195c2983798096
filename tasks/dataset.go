package tasks

import (
	"math/rand/v2"
)

// IgnoreLabel is the label of a position that carries no loss (ARC pad
// cells), PyTorch's ignore_index default.
const IgnoreLabel = -100

// Dataset kinds: how samples are stored, augmented and scored.
const (
	kindSudoku = "sudoku"
	kindMaze   = "maze"
	kindARC    = "arc" // ARC-AGI and arc-lite
)

// Dataset is a built puzzle dataset: a train and a test split of token
// sequences of one length and vocabulary. Token 0 is padding in every
// kind. The splits never share a puzzle: Build checks it by hashing.
type Dataset struct {
	// Name identifies the data, e.g. "sudoku-4", "maze-30", "arc".
	Name string
	// Vocab is the token vocabulary size (pad = 0).
	Vocab int
	// SeqLen is the number of tokens per sample.
	SeqLen int
	// NumPuzzleIDs is the number of rows of the puzzle-embedding table: for
	// ARC 1 + the number of variants (id 0 is blank), otherwise 1 (every
	// sample has the blank id, as in HRM's Sudoku and Maze builders).
	NumPuzzleIDs int
	// Train and Test are the splits.
	Train, Test *Split
	// Dropped counts training puzzles (ARC: pairs) left out because they
	// matched a test puzzle (ARC: up to augmentation); ARC-AGI-1 has two.
	Dropped int

	kind string
	arc  *arcData
}

// Split is one side of a dataset: a fixed, ordered list of samples plus,
// for training, a way to draw augmented ones. A Split is read-only, so Get
// and Draw are safe for concurrent use (each caller with its own rng).
type Split struct {
	name   string
	seqLen int

	tok      *tokenSplit   // sudoku and maze
	arc      *arcData      // arc and arc-lite
	arcSplit *arcSplitData // which of arc's splits this is
}

// Name returns "train" or "test".
func (s *Split) Name() string { return s.name }

// Len returns the number of samples (ARC: examples × variants).
func (s *Split) Len() int {
	if s.tok != nil {
		return s.tok.len()
	}
	return s.arcSplit.len()
}

// Puzzles returns the number of original puzzles (ARC: tasks) in the split.
func (s *Split) Puzzles() int {
	if s.tok != nil {
		return s.tok.len()
	}
	return len(s.arcSplit.Tasks)
}

// Get fills input and label (each SeqLen long) with sample i, 0 ≤ i <
// Len(), without augmentation, and returns its puzzle id. Label positions
// without loss hold IgnoreLabel.
func (s *Split) Get(i int, input, label []int32) (puzzleID int32) {
	if s.tok != nil {
		s.tok.get(i, input, label)
		return 0
	}
	return s.arc.get(s.arcSplit, i, input, label)
}

// Draw fills input and label with a random sample and returns its puzzle
// id. Sudoku and Maze draw a random puzzle under one of its Augment
// variants, made on the fly; ARC draws one of the stored variants, and on
// the training split moves the example to a random offset.
func (s *Split) Draw(rng *rand.Rand, input, label []int32) (puzzleID int32) {
	if s.tok != nil {
		s.tok.draw(rng, input, label)
		return 0
	}
	return s.arc.draw(s.arcSplit, rng, input, label)
}

// tokenSplit stores Sudoku or Maze samples as tokens, one byte each.
type tokenSplit struct {
	Kind string
	Side int
	// Inputs and Labels hold Len × Side² tokens.
	Inputs, Labels []uint8
	// Variants is the number of augmented variants per puzzle besides the
	// original; Draw picks among them. Seed fixes the Sudoku variants.
	Variants int
	Seed     int64
}

func (t *tokenSplit) len() int { return len(t.Inputs) / (t.Side * t.Side) }

func (t *tokenSplit) get(i int, input, label []int32) {
	n := t.Side * t.Side
	for k, v := range t.Inputs[i*n : (i+1)*n] {
		input[k] = int32(v)
	}
	for k, v := range t.Labels[i*n : (i+1)*n] {
		label[k] = int32(v)
	}
}

func (t *tokenSplit) draw(rng *rand.Rand, input, label []int32) {
	p := rng.IntN(t.len())
	v := rng.IntN(t.Variants + 1)
	n := t.Side * t.Side
	in, lab := t.Inputs[p*n:(p+1)*n], t.Labels[p*n:(p+1)*n]
	switch t.Kind {
	case kindSudoku:
		tr := sudokuVariant(t.Side, t.Seed, p, v)
		tr.applyTokens(t.Side, in, input)
		tr.applyTokens(t.Side, lab, label)
	default:
		d := Dihedral(v % NumDihedral)
		d.applyTokens(t.Side, in, input)
		d.applyTokens(t.Side, lab, label)
	}
}

// applyTokens writes the n×n tokens of src transformed by d into dst.
func (d Dihedral) applyTokens(n int, src []uint8, dst []int32) {
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			sr, sc := d.source(r, c, n, n)
			dst[r*n+c] = int32(src[sr*n+sc])
		}
	}
}

// newTokenDataset assembles a Sudoku or Maze dataset from token rows.
func newTokenDataset(name, kind string, side, vocab int, train, test [][2][]uint8, variants int, seed int64, dropped int) *Dataset {
	d := &Dataset{Name: name, Vocab: vocab, SeqLen: side * side, NumPuzzleIDs: 1, Dropped: dropped, kind: kind}
	mk := func(name string, rows [][2][]uint8, variants int) *Split {
		ts := &tokenSplit{Kind: kind, Side: side, Variants: variants, Seed: seed}
		for _, r := range rows {
			ts.Inputs = append(ts.Inputs, r[0]...)
			ts.Labels = append(ts.Labels, r[1]...)
		}
		return &Split{name: name, seqLen: d.SeqLen, tok: ts}
	}
	d.Train = mk("train", train, variants)
	d.Test = mk("test", test, 0)
	return d
}
