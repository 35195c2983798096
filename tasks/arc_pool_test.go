package tasks

import (
	"strings"
	"testing"
)

// votingSet is one eval task with one test input and three variants.
func votingSet(t *testing.T) *Dataset {
	t.Helper()
	g := func(v uint8) Grid { return gridOf([]uint8{v, 0}, []uint8{0, 0}) }
	e := Seal(Task{ID: "e", Train: []Pair{{g(1), g(2)}}, Test: []Pair{{g(3), g(4)}}})
	d, err := NewARCDataset(nil, []EvalTask{e}, ARCOptions{Canvas: 4, Augment: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Test.Len() != 3 {
		t.Fatalf("test len=%d, want 3", d.Test.Len())
	}
	return d
}

// answers renders one prediction per test sample: "r" the right answer,
// "w" a wrong grid, "e" a canvas with no grid at its corner, each seen
// through the sample's variant.
func answers(d *Dataset, marks string) []int32 {
	L := d.SeqLen
	preds := make([]int32, len(marks)*L)
	for i, m := range marks {
		_, v, ex := d.arc.locate(&d.arc.Test, i)
		switch m {
		case 'r':
			copy(preds[i*L:], EncodeARC(d.arc.variant(v).Apply(d.arc.grid(d.arc.Test.ExOut[ex])), 4))
		case 'w':
			copy(preds[i*L:], EncodeARC(d.arc.variant(v).Apply(gridOf([]uint8{9, 9})), 4))
		}
	}
	return preds
}

// TestEmptyCropVotes: a prediction with nothing to crop votes for the empty
// grid, as in both papers' evaluators, and can outvote the right answer.
func TestEmptyCropVotes(t *testing.T) {
	d := votingSet(t)
	tests := []struct {
		marks        string
		pass1, pass2 float64
	}{
		{"ree", 0, 1}, // the empty grid's 2 votes beat the answer's 1
		{"rre", 1, 1},
		{"eee", 0, 0},
		{"wee", 0, 0},
	}
	for _, tt := range tests {
		m := d.Score(d.Test, answers(d, tt.marks), nil)
		got1, got2 := m[PassAtMetric(1, Partial)], m[PassAtMetric(2, Partial)]
		if got1 != tt.pass1 || got2 != tt.pass2 {
			t.Errorf("%s: pass@1 %v, pass@2 %v; want %v, %v", tt.marks, got1, got2, tt.pass1, tt.pass2)
		}
	}
}

// TestVotePool: pooled pass@k ranks answers by their votes summed over
// every evaluation so far, and a pool restored from its bytes goes on
// exactly as the original.
func TestVotePool(t *testing.T) {
	d := votingSet(t)
	evals := []struct {
		marks         string
		alone, pooled float64 // pass@1 of this evaluation, of the pool
		pooledPass2   float64
	}{
		{"rww", 0, 0, 1}, // pool: wrong 2, right 1
		{"rrr", 1, 1, 1}, // right 4, wrong 2
		{"www", 0, 0, 1}, // wrong 5, right 4
		{"eee", 0, 0, 1}, // wrong 5, right 4, empty 3
	}
	p := d.NewVotePool()
	var restored *VotePool
	for i, ev := range evals {
		preds := answers(d, ev.marks)
		alone := d.Score(d.Test, preds, nil)[PassAtMetric(1, Partial)]
		pooled := d.ScorePooled(preds, nil, p)
		if alone != ev.alone || pooled[PooledPassAtMetric(1, Partial)] != ev.pooled || pooled[PooledPassAtMetric(2, Strict)] != ev.pooledPass2 {
			t.Fatalf("evaluation %d (%s): pass@1 %v, pooled %v; want %v and %v, pooled pass@2 %v",
				i, ev.marks, alone, pooled, ev.alone, ev.pooled, ev.pooledPass2)
		}
		if restored != nil {
			if again := d.ScorePooled(preds, nil, restored); !equalMetrics(again, pooled) {
				t.Fatalf("evaluation %d: restored pool scores %v, the original %v", i, again, pooled)
			}
		}
		if i == 1 {
			data, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if restored, err = d.RestoreVotePool(data); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, _ := p.MarshalBinary()
	other, _ := smallARC(t, 1, false)
	if _, err := other.RestoreVotePool(data); err == nil || !strings.Contains(err.Error(), "not a pool of dataset") {
		t.Fatalf("restoring into another dataset: %v, want an error", err)
	}
	if _, err := d.RestoreVotePool([]byte("junk")); err == nil {
		t.Fatal("restoring junk succeeded")
	}
}

func equalMetrics(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
