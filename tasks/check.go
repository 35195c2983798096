package tasks

import (
	"fmt"
)

// checkDataset verifies a freshly built dataset: consistent shapes, both
// splits non-empty, and no test puzzle in training (for ARC, when built to
// drop leaked pairs: the papers' ARC data keeps them). The builders already
// keep the splits apart; this independent pass is what makes "never
// overlap" a checked property rather than a hope.
func checkDataset(d *Dataset) error {
	if err := checkShape(d); err != nil {
		return err
	}
	if d.Train.Len() == 0 || d.Test.Len() == 0 {
		return fmt.Errorf("%d train and %d test samples, want some of each", d.Train.Len(), d.Test.Len())
	}
	if d.arc != nil && d.arc.DropLeaked {
		return checkARCDisjoint(d.arc)
	}
	if d.arc != nil {
		return nil
	}
	n := d.SeqLen
	inTrain := make(map[uint64]bool, d.Train.tok.len())
	for i := 0; i < d.Train.tok.len(); i++ {
		inTrain[tokenHash(d.Train.tok.Inputs[i*n:(i+1)*n])] = true
	}
	for i := 0; i < d.Test.tok.len(); i++ {
		if inTrain[tokenHash(d.Test.tok.Inputs[i*n:(i+1)*n])] {
			return fmt.Errorf("test puzzle %d is also in training", i)
		}
	}
	return nil
}

func tokenHash(t []uint8) uint64 {
	h := newHash()
	h.addBytes(t)
	return uint64(h)
}

// checkARCDisjoint verifies that no training example is a test example of
// another task, up to augmentation.
func checkARCDisjoint(a *arcData) error {
	owners := map[uint64][]int32{}
	s := &a.Test
	for k, t := range s.Tasks {
		for e := s.ExStart[k]; e < s.ExStart[k+1]; e++ {
			h := canonicalHash(a.grid(s.ExIn[e]), a.grid(s.ExOut[e]))
			owners[h] = append(owners[h], t)
		}
	}
	s = &a.Train
	for k, t := range s.Tasks {
		for e := s.ExStart[k]; e < s.ExStart[k+1]; e++ {
			for _, o := range owners[canonicalHash(a.grid(s.ExIn[e]), a.grid(s.ExOut[e]))] {
				if o != t {
					return fmt.Errorf("arc task %s trains on a test pair of task %s", a.TaskIDs[t], a.TaskIDs[o])
				}
			}
		}
	}
	return nil
}

// checkShape verifies the internal consistency of a dataset, which for one
// read from a cache file is not guaranteed by construction.
func checkShape(d *Dataset) error {
	if d.Train == nil || d.Test == nil || d.SeqLen <= 0 || d.Vocab <= 0 || d.NumPuzzleIDs < 1 {
		return fmt.Errorf("dataset header: seq_len %d, vocab %d, puzzle ids %d", d.SeqLen, d.Vocab, d.NumPuzzleIDs)
	}
	if d.arc != nil {
		return checkARCShape(d.arc, d.SeqLen, d.NumPuzzleIDs)
	}
	for _, s := range []*Split{d.Train, d.Test} {
		t := s.tok
		switch {
		case t == nil || t.Side*t.Side != d.SeqLen:
			return fmt.Errorf("%s split: not a %d-token split", s.name, d.SeqLen)
		case t.Kind != kindSudoku && t.Kind != kindMaze:
			return fmt.Errorf("%s split: unknown kind %q", s.name, t.Kind)
		case len(t.Inputs) != len(t.Labels) || len(t.Inputs)%d.SeqLen != 0:
			return fmt.Errorf("%s split: %d input and %d label tokens", s.name, len(t.Inputs), len(t.Labels))
		case t.Variants < 0:
			return fmt.Errorf("%s split: %d variants", s.name, t.Variants)
		}
		for i, v := range t.Inputs {
			if int(v) >= d.Vocab || int(t.Labels[i]) >= d.Vocab {
				return fmt.Errorf("%s split: token %d out of vocabulary %d", s.name, i, d.Vocab)
			}
		}
	}
	return nil
}

func checkARCShape(a *arcData, seqLen, ids int) error {
	ng := len(a.GridH)
	switch {
	case a.Canvas < 1 || a.Canvas > MaxARCSide || a.Canvas*a.Canvas != seqLen:
		return fmt.Errorf("arc canvas %d for %d tokens", a.Canvas, seqLen)
	case len(a.GridW) != ng || len(a.GridOff) != ng+1 || a.GridOff[ng] != int32(len(a.Cells)):
		return fmt.Errorf("arc grid table inconsistent")
	case len(a.VarStart) != len(a.TaskIDs)+1 || a.VarStart[len(a.TaskIDs)] != int32(len(a.VarDihedral)):
		return fmt.Errorf("arc variant table inconsistent")
	case len(a.VarColours) != 10*len(a.VarDihedral) || ids != len(a.VarDihedral)+1:
		return fmt.Errorf("arc variants: %d colour maps, %d puzzle ids for %d variants", len(a.VarColours)/10, ids, len(a.VarDihedral))
	}
	for k := 0; k < ng; k++ {
		h, w := int(a.GridH[k]), int(a.GridW[k])
		if h < 1 || w < 1 || h > a.Canvas || w > a.Canvas || int(a.GridOff[k+1]-a.GridOff[k]) != h*w {
			return fmt.Errorf("arc grid %d: %d×%d does not fit", k, h, w)
		}
	}
	for t := range a.TaskIDs {
		if a.VarStart[t+1] <= a.VarStart[t] {
			return fmt.Errorf("arc task %d has no variants", t)
		}
	}
	for v, d := range a.VarDihedral {
		if d >= NumDihedral || a.VarColours[10*v] != 0 {
			return fmt.Errorf("arc variant %d malformed", v)
		}
	}
	for _, s := range []*arcSplitData{&a.Train, &a.Test} {
		if err := checkARCSplit(a, s, ng); err != nil {
			return err
		}
	}
	return nil
}

func checkARCSplit(a *arcData, s *arcSplitData, grids int) error {
	nt, ne := len(s.Tasks), len(s.ExIn)
	if len(s.ExStart) != nt+1 || len(s.SampleStart) != nt+1 || len(s.ExOut) != ne || len(s.ExTest) != ne || s.ExStart[nt] != int32(ne) {
		return fmt.Errorf("arc split tables inconsistent")
	}
	for k, t := range s.Tasks {
		nEx := int(s.ExStart[k+1] - s.ExStart[k])
		if t < 0 || int(t) >= len(a.TaskIDs) || nEx < 1 || s.SampleStart[k+1]-s.SampleStart[k] != nEx*a.variants(s, t) {
			return fmt.Errorf("arc split task %d inconsistent", k)
		}
	}
	for e := 0; e < ne; e++ {
		if s.ExIn[e] < 0 || int(s.ExIn[e]) >= grids || s.ExOut[e] < 0 || int(s.ExOut[e]) >= grids {
			return fmt.Errorf("arc example %d refers to a missing grid", e)
		}
	}
	return nil
}
