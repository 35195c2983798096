package tasks

// Metric names Score reports. ARC pass@k names come from PassAtMetric.
const (
	// MetricExact is the fraction of samples whose every labelled position
	// is right: the papers' exact_accuracy, and their score for every task
	// (a maze is solved only by the label's own path).
	MetricExact = "exact_accuracy"
	// MetricToken is the fraction of labelled positions that are right.
	MetricToken = "token_accuracy"
	// MetricValidSolution (Sudoku) is the fraction of predictions that are
	// a solved grid keeping every given: a right answer even where a puzzle
	// had several solutions.
	MetricValidSolution = "valid_solution"
	// MetricValidPath (Maze) is the fraction of predictions marking a
	// simple start–goal path through open cells, of any length.
	MetricValidPath = "valid_path"
	// MetricOptimalPath (Maze) is the fraction marking a valid path of
	// shortest length, whichever shortest path it is. Where a maze has
	// several shortest paths it exceeds MetricExact, which is what the
	// papers report.
	MetricOptimalPath = "optimal_path"
)

// Score computes the task's metrics for predictions on split s (Train or
// Test of d). preds holds SeqLen tokens per sample in split order (the
// argmax), conf one confidence per sample (e.g. sigmoid of the halt logit;
// nil counts as all zero), used by ARC voting to break ties. preds may
// cover only the first samples of the split (an evaluation capped at some
// number of samples); only those are scored.
//
// Every kind reports MetricExact and MetricToken; Sudoku adds
// MetricValidSolution, Maze MetricValidPath and MetricOptimalPath, and the
// ARC test split pass@k by voting in both scoring modes (PassAtMetric).
func (d *Dataset) Score(s *Split, preds []int32, conf []float32) map[string]float64 {
	L := d.SeqLen
	n := min(len(preds)/L, s.Len())
	m := map[string]float64{}
	if n == 0 {
		return m
	}
	var t tally
	input, label := make([]int32, L), make([]int32, L)
	for i := 0; i < n; i++ {
		s.Get(i, input, label)
		t.judge(s, input, label, preds[i*L:(i+1)*L])
	}
	m[MetricExact] = float64(t.exact) / float64(n)
	m[MetricToken] = float64(t.tokRight) / float64(max(t.tokTotal, 1))
	switch {
	case s.tok != nil && s.tok.Kind == kindSudoku:
		m[MetricValidSolution] = float64(t.valid) / float64(n)
	case s.tok != nil && s.tok.Kind == kindMaze:
		m[MetricValidPath] = float64(t.valid) / float64(n)
		m[MetricOptimalPath] = float64(t.optimal) / float64(n)
	case s.arc != nil && s.arcSplit == &s.arc.Test:
		for k, v := range s.arc.vote(s.arcSplit, preds[:n*L], conf) {
			m[k] = v
		}
	}
	return m
}

// tally counts per-sample verdicts.
type tally struct {
	exact, valid, optimal int
	tokRight, tokTotal    int
}

// judge adds the verdicts on one prediction of a sample of s.
func (t *tally) judge(s *Split, input, label, pred []int32) {
	all := true
	for k, want := range label {
		if want == IgnoreLabel {
			continue
		}
		t.tokTotal++
		if pred[k] == want {
			t.tokRight++
		} else {
			all = false
		}
	}
	if all {
		t.exact++
	}
	switch {
	case s.tok != nil && s.tok.Kind == kindSudoku:
		side := s.tok.Side
		sol := sudokuFromTokens(side, pred)
		if sol.Solved() && sol.Consistent(sudokuFromTokens(side, input)) {
			t.valid++
		}
	case s.tok != nil && s.tok.Kind == kindMaze:
		valid, optimal := CheckMazePath(tokenGrid(s.tok.Side, input), tokenGrid(s.tok.Side, pred))
		if valid {
			t.valid++
		}
		if optimal {
			t.optimal++
		}
	}
}

// tokenGrid turns n×n tokens into a grid; tokens outside 0..255 become 0,
// which no check accepts.
func tokenGrid(n int, tokens []int32) Grid {
	g := NewGrid(n, n)
	for i, t := range tokens[:n*n] {
		if t >= 0 && t < 256 {
			g.Cells[i] = uint8(t)
		}
	}
	return g
}
