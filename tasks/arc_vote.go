package tasks

import (
	"fmt"
	"math"
	"sort"
)

// ScoringMode says how an ARC task with several test inputs is credited.
type ScoringMode string

// The two scoring modes of the papers' evaluators.
const (
	// Strict counts a task only if all its test inputs are right (HRM's
	// arc_eval.ipynb).
	Strict ScoringMode = "strict"
	// Partial credits each task with the fraction of its test inputs that
	// are right, averaged over tasks (TRM's evaluators/arc.py, ARC Prize).
	Partial ScoringMode = "partial"
)

// PassAtMetric names the ARC metric "right answer among the top k voted
// answers" in a scoring mode, e.g. "pass@2_strict".
func PassAtMetric(k int, mode ScoringMode) string { return fmt.Sprintf("pass@%d_%s", k, mode) }

// PooledPassAtMetric names PassAtMetric computed from the votes of every
// evaluation of a run so far (VotePool), e.g. "pass@2_partial_pooled".
func PooledPassAtMetric(k int, mode ScoringMode) string { return PassAtMetric(k, mode) + "_pooled" }

// candidate is one distinct answer to a test input, in the original frame.
// Only its hash is kept, not the grid: a pool of a run's evaluations holds
// up to votes × evaluations of them.
type candidate struct {
	Hash    uint64
	Votes   int
	ConfSum float64
	Right   bool // it is the test output
}

// votePools holds the candidates of every test example of a split, by hash.
type votePools []map[uint64]*candidate

// vote scores ARC test predictions as HRM and TRM do: each prediction is
// cropped, mapped back to the original frame through the inverse of its
// variant, and identical answers to a test input are pooled; answers rank
// by votes, then by mean confidence. preds covers the first len/SeqLen
// samples; tasks with no scored sample are left out, and test inputs of a
// scored task that had no sample count as wrong.
func (a *arcData) vote(s *arcSplitData, preds []int32, conf []float32) map[string]float64 {
	pools := make(votePools, len(s.ExIn))
	a.addVotes(s, pools, preds, conf)
	return a.passAt(s, pools, len(preds)/(a.Canvas*a.Canvas), PassAtMetric)
}

// addVotes adds each prediction to its test example's pool. A canvas whose
// corner is not a colour crops to the empty grid, which votes like any
// answer, as in both papers' evaluators (it can never be right).
func (a *arcData) addVotes(s *arcSplitData, pools votePools, preds []int32, conf []float32) {
	L := a.Canvas * a.Canvas
	for i := 0; i < len(preds)/L; i++ {
		_, v, e := a.locate(s, i)
		g, _ := DecodeARC(preds[i*L:(i+1)*L], a.Canvas)
		g = a.variant(v).Invert(g)
		h := g.hash()
		if pools[e] == nil {
			pools[e] = map[uint64]*candidate{}
		}
		c := pools[e][h]
		if c == nil {
			c = &candidate{Hash: h, Right: g.Equal(a.grid(s.ExOut[e]))}
			pools[e][h] = c
		}
		c.Votes++
		if i < len(conf) && !math.IsNaN(float64(conf[i])) {
			c.ConfSum += float64(conf[i])
		}
	}
}

// passAt scores the pools of the tasks among the split's first n samples
// in both modes, naming each metric with name. A k above
// the most votes any test input had is left out, as it would equal the
// largest one kept.
func (a *arcData) passAt(s *arcSplitData, pools votePools, n int, name func(int, ScoringMode) string) map[string]float64 {
	ks := reportedKs(pools)
	strict := make([]float64, len(ks))
	partial := make([]float64, len(ks))
	tasks := 0
	for k := range s.Tasks {
		if s.SampleStart[k] >= n {
			break
		}
		tasks++
		lo, hi := int(s.ExStart[k]), int(s.ExStart[k+1])
		for j, kk := range ks {
			right := 0
			for e := lo; e < hi; e++ {
				if r := rightRank(pools[e]); r >= 0 && r < kk {
					right++
				}
			}
			if right == hi-lo {
				strict[j]++
			}
			partial[j] += float64(right) / float64(hi-lo)
		}
	}
	m := map[string]float64{}
	for j, k := range ks {
		m[name(k, Strict)] = strict[j] / float64(max(tasks, 1))
		m[name(k, Partial)] = partial[j] / float64(max(tasks, 1))
	}
	return m
}

// reportedKs returns the k of pass@k the papers report, 1 and 2 always and
// the others up to the most votes any test input's pool holds.
func reportedKs(pools votePools) []int {
	maxVoters := 0
	for _, pool := range pools {
		votes := 0
		for _, c := range pool {
			votes += c.Votes
		}
		maxVoters = max(maxVoters, votes)
	}
	var ks []int
	for _, k := range [...]int{1, 2, 5, 10, 100, 1000} {
		if k <= 2 || k <= maxVoters {
			ks = append(ks, k)
		}
	}
	return ks
}

// rightRank orders a pool by votes, then mean confidence, then hash (so
// ties break the same way every run) and returns the right answer's rank,
// -1 when no candidate is right.
func rightRank(pool map[uint64]*candidate) int {
	cs := make([]*candidate, 0, len(pool))
	for _, c := range pool {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Votes != b.Votes {
			return a.Votes > b.Votes
		}
		ma, mb := a.ConfSum/float64(a.Votes), b.ConfSum/float64(b.Votes)
		if ma != mb {
			return ma > mb
		}
		return a.Hash < b.Hash
	})
	for r, c := range cs {
		if c.Right {
			return r
		}
	}
	return -1
}
