package tasks

// EpochSteps returns how many optimiser steps of batch samples make epochs
// passes over the training split, counted as HRM's and TRM's pretrain.py
// count total_steps:
//
//	⌊epochs × groups × mean examples per puzzle / batch⌋
//
// A group is what an epoch visits once: an original Sudoku or maze, or an
// ARC task. A puzzle is one variant of a group: each epoch draws one
// variant of every group and trains on all its examples (one for Sudoku
// and Maze; an ARC task's demonstration pairs, plus its test pairs unless
// it is an evaluation task). The mean is over every variant of every
// group, so a task with few distinct variants (few colours, symmetric
// grids) weighs less than one with the full 1 + task.augment.
func (d *Dataset) EpochSteps(epochs, batch int) int {
	groups, puzzles, examples := d.Train.Puzzles(), d.Train.Len(), d.Train.Len()
	if s := d.Train.arcSplit; s != nil {
		puzzles = 0
		for _, t := range s.Tasks {
			puzzles += d.arc.variants(s, t)
		}
	}
	mean := float64(examples) / float64(puzzles)
	// The official expression's order of operations, so the truncation
	// agrees to the step.
	return int(float64(epochs*groups) * mean / float64(batch))
}
