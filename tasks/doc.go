// Package tasks builds the puzzle datasets the papers use — Sudoku, Maze and
// ARC-AGI — from their real file formats or from generators, with
// validity-preserving augmentation, tokenisation and scoring. Pure Go.
//
// Build turns an experiments.TaskConfig into a Dataset: a train and a test
// Split of fixed-length token sequences that never share a puzzle. Samples
// are read with Split.Get (deterministic, no augmentation) or drawn with
// Split.Draw (random, augmented for training), and predictions are judged
// by Dataset.Score. Built datasets are cached on disk by spec hash.
//
// Tokens follow HRM's dataset builders, pad = 0 everywhere:
//
//	sudoku   1 blank, 2.. digits (vocab N+2; 11 on 9×9)   loss on every cell
//	maze     1 wall, 2 open, 3 start, 4 goal, 5 path ("# SGo"; vocab 6)
//	arc      1 end-of-grid, 2–11 colours 0–9 (vocab 12)    pad cells: IgnoreLabel
//
// ARC-style data (ARC-AGI and the generated arc-lite) follows the papers'
// transductive split: every demonstration pair trains, evaluation tasks'
// test outputs never do (EvalTask seals them). Each task has up to Augment
// distinct variants (dihedral transform × colour permutation), each with its
// own puzzle id; evaluation votes over them in the original frame.
//
// Randomness is math/rand/v2; generated data depends only on the spec's
// seed, never on the number of cores.
package tasks
