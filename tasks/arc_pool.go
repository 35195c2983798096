package tasks

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"slices"
)

// VotePool holds the ARC votes of several evaluations of one run, pooled
// per test input. TRM's evaluator keeps its votes across the evaluations of
// a training run unless told otherwise (aggregated voting), so its
// reported pass@2 ranks answers by their votes summed over up to ten
// checkpoints; ScorePooled reproduces that. A pool belongs to one dataset's
// test split and is saved with the run's checkpoints (MarshalBinary,
// RestoreVotePool).
type VotePool struct {
	pools votePools
	// scored is the most samples one evaluation scored: the tasks among
	// them count.
	scored int
}

// poolFile is a VotePool's binary form: per test example, its candidates
// in hash order, so equal pools encode to equal bytes.
type poolFile struct {
	Scored     int
	Candidates [][]candidate
}

// NewVotePool returns an empty pool for d's test split, or nil when d has
// no votes (Sudoku, Maze).
func (d *Dataset) NewVotePool() *VotePool {
	if d.arc == nil {
		return nil
	}
	return &VotePool{pools: make(votePools, len(d.arc.Test.ExIn))}
}

// ScorePooled adds one evaluation's predictions on the test split (as in
// Score: preds SeqLen tokens per sample in split order, conf one confidence
// per sample) to p, and returns pass@k of everything p now holds under the
// PooledPassAtMetric names.
func (d *Dataset) ScorePooled(preds []int32, conf []float32, p *VotePool) map[string]float64 {
	s := &d.arc.Test
	n := min(len(preds)/d.SeqLen, s.len())
	d.arc.addVotes(s, p.pools, preds[:n*d.SeqLen], conf)
	p.scored = max(p.scored, n)
	return d.arc.passAt(s, p.pools, p.scored, PooledPassAtMetric)
}

// MarshalBinary encodes the pool for a checkpoint.
func (p *VotePool) MarshalBinary() ([]byte, error) {
	f := poolFile{Scored: p.scored, Candidates: make([][]candidate, len(p.pools))}
	for e, pool := range p.pools {
		for _, c := range pool {
			f.Candidates[e] = append(f.Candidates[e], *c)
		}
		slices.SortFunc(f.Candidates[e], func(a, b candidate) int { return cmp.Compare(a.Hash, b.Hash) })
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&f); err != nil {
		return nil, fmt.Errorf("encode vote pool: %w", err)
	}
	return buf.Bytes(), nil
}

// RestoreVotePool decodes a pool MarshalBinary wrote for d's test split.
func (d *Dataset) RestoreVotePool(data []byte) (*VotePool, error) {
	var f poolFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return nil, fmt.Errorf("decode vote pool: %w", err)
	}
	p := d.NewVotePool()
	if p == nil || len(f.Candidates) != len(p.pools) || f.Scored > d.Test.Len() {
		return nil, fmt.Errorf("decode vote pool: %d test inputs and %d samples scored, not a pool of dataset %s", len(f.Candidates), f.Scored, d.Name)
	}
	p.scored = f.Scored
	for e, cs := range f.Candidates {
		if len(cs) > 0 {
			p.pools[e] = make(map[uint64]*candidate, len(cs))
		}
		for i := range cs {
			p.pools[e][cs[i].Hash] = &cs[i]
		}
	}
	return p, nil
}
