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

// candidate is one distinct answer to a test input.
type candidate struct {
	grid    Grid
	hash    uint64
	votes   int
	confSum float64
}

// vote scores ARC test predictions as HRM and TRM do: each prediction is
// cropped, mapped back to the original frame through the inverse of its
// variant, and identical answers to a test input are pooled; answers rank
// by votes, then by mean confidence. preds covers the first len/SeqLen
// samples; tasks with no scored sample are left out, and test inputs of a
// scored task that had no sample count as wrong.
func (a *arcData) vote(s *arcSplitData, preds []int32, conf []float32) map[string]float64 {
	n := len(preds) / (a.Canvas * a.Canvas)
	rank, maxVoters := a.rankAnswers(s, preds, conf)
	// The k the papers report; those above the number of voters per test
	// input are left out, as they would equal the largest one kept.
	var ks []int
	for _, k := range [...]int{1, 2, 5, 10, 100, 1000} {
		if k <= 2 || k <= maxVoters {
			ks = append(ks, k)
		}
	}
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
				if rank[e] >= 0 && rank[e] < kk {
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
		m[PassAtMetric(k, Strict)] = strict[j] / float64(max(tasks, 1))
		m[PassAtMetric(k, Partial)] = partial[j] / float64(max(tasks, 1))
	}
	return m
}

// rankAnswers pools the predictions per test example and returns, for each
// example, the rank of the right answer among its pool (-1 if absent), and
// the most voters any example had.
func (a *arcData) rankAnswers(s *arcSplitData, preds []int32, conf []float32) (rank []int, maxVoters int) {
	L := a.Canvas * a.Canvas
	pools := make([]map[uint64]*candidate, len(s.ExIn))
	for i := 0; i < len(preds)/L; i++ {
		k, v, e := a.locate(s, i)
		maxVoters = max(maxVoters, a.variants(s, s.Tasks[k]))
		g, ok := DecodeARC(preds[i*L:(i+1)*L], a.Canvas)
		if !ok {
			continue
		}
		g = a.variant(v).Invert(g)
		h := g.hash()
		if pools[e] == nil {
			pools[e] = map[uint64]*candidate{}
		}
		c := pools[e][h]
		if c == nil {
			c = &candidate{grid: g, hash: h}
			pools[e][h] = c
		}
		c.votes++
		if i < len(conf) && !math.IsNaN(float64(conf[i])) {
			c.confSum += float64(conf[i])
		}
	}
	rank = make([]int, len(s.ExIn))
	for e, pool := range pools {
		rank[e] = rightRank(pool, a.grid(s.ExOut[e]))
	}
	return rank, maxVoters
}

// rightRank orders a pool by votes, then mean confidence, then hash (so
// ties break the same way every run) and returns the right answer's rank.
func rightRank(pool map[uint64]*candidate, want Grid) int {
	if len(pool) == 0 {
		return -1
	}
	cs := make([]*candidate, 0, len(pool))
	for _, c := range pool {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.votes != b.votes {
			return a.votes > b.votes
		}
		ma, mb := a.confSum/float64(a.votes), b.confSum/float64(b.votes)
		if ma != mb {
			return ma > mb
		}
		return a.hash < b.hash
	})
	for r, c := range cs {
		if c.grid.Equal(want) {
			return r
		}
	}
	return -1
}
