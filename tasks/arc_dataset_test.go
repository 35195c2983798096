package tasks

import (
	"math/rand/v2"
	"strings"
	"testing"

	"outerloop/experiments"
)

func TestEncodeDecodeARC(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for i := 0; i < 300; i++ {
		g := randomGrid(rng, 30, 10)
		if i == 0 {
			g = NewGrid(30, 30) // fills the canvas: no room for EOS
		}
		toks := EncodeARC(g, 30)
		got, ok := DecodeARC(toks, 30)
		if !ok || !got.Equal(g) {
			t.Fatalf("%d×%d grid decodes to %d×%d (ok=%v)", g.H, g.W, got.H, got.W, ok)
		}
		if g.H < 30 && toks[g.H*30] != arcEOS || g.W < 30 && toks[g.W] != arcEOS {
			t.Fatalf("%d×%d grid: no EOS after the last row or column", g.H, g.W)
		}
	}
	if _, ok := DecodeARC(make([]int32, 900), 30); ok {
		t.Fatalf("all-pad canvas decoded ok")
	}
	// A ragged prediction crops to the largest clean top-left rectangle.
	toks := EncodeARC(NewGrid(3, 4), 30)
	toks[1*30+3] = arcPad
	if got, _ := DecodeARC(toks, 30); got.H != 3 || got.W != 3 {
		t.Fatalf("ragged crop %d×%d, want 3×3", got.H, got.W)
	}
}

// Property: mapping a prediction back through a variant's inverse recovers
// the original, and augmentations share a canonical hash.
func TestARCVariantInverse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	for i := 0; i < 1000; i++ {
		g := randomGrid(rng, 9, 10)
		v := randomVariant(rng)
		a := v.Apply(g)
		if back := v.Invert(a); !back.Equal(g) {
			t.Fatalf("variant %+v: inverse gives\n%v want\n%v", v, back, g)
		}
		if canonicalHash(a) != canonicalHash(g) {
			t.Fatalf("variant %+v changes the canonical hash", v)
		}
	}
	if canonicalHash(gridOf([]uint8{1, 0})) == canonicalHash(gridOf([]uint8{1, 1})) {
		t.Fatalf("different grids share a canonical hash")
	}
}

func TestTaskVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := gridOf([]uint8{1, 2, 0}, []uint8{3, 0, 0})
	vs := taskVariants(rng, []Grid{g}, 50)
	if len(vs) != 51 || vs[0] != identityVariant() {
		t.Fatalf("%d variants (first %+v), want 51 starting with the identity", len(vs), vs[0])
	}
	seen := map[string]bool{}
	for _, v := range vs {
		k := v.Apply(g).String()
		if seen[k] {
			t.Fatalf("variant %+v repeats a grid", v)
		}
		seen[k] = true
	}
	// A 1×1 black grid looks the same under every variant.
	if vs := taskVariants(rng, []Grid{NewGrid(1, 1)}, 10); len(vs) != 1 {
		t.Fatalf("black cell has %d variants, want 1", len(vs))
	}
}

// smallARC builds a dataset from hand-made tasks: a is a training task, b
// an evaluation task, and dup a training copy of b, whose test pair leaks
// b's unless dropLeaked.
func smallARC(t *testing.T, augment int, dropLeaked bool) (*Dataset, Task) {
	t.Helper()
	// Pairs of distinct shapes, so no two are augmentations of each other.
	p := func(h, w int) Pair {
		in, out := NewGrid(h, w), NewGrid(w, h)
		in.Cells[0] = 1
		for i := range out.Cells {
			out.Cells[i] = 2
		}
		return Pair{in, out}
	}
	a := Task{ID: "a", Train: []Pair{p(1, 1), p(1, 2)}, Test: []Pair{p(1, 3)}}
	b := Task{ID: "b", Train: []Pair{p(2, 2), p(2, 3)}, Test: []Pair{p(3, 3)}}
	train := []Task{a, {ID: "dup", Train: b.Train, Test: b.Test}}
	d, err := NewARCDataset(train, []EvalTask{Seal(b)}, ARCOptions{Name: "t", Canvas: 5, Augment: augment, Translate: true, DropLeaked: dropLeaked, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDataset(d); err != nil {
		t.Fatal(err)
	}
	return d, b
}

// TestARCLeakedPairs: the papers' builders keep a training pair that is
// another evaluation task's test pair; task.drop_leaked removes it.
func TestARCLeakedPairs(t *testing.T) {
	tests := []struct {
		drop       bool
		dropped    int
		dupPairs   int // dup's training pairs: 2 demos and its test pair
		leakTrains bool
	}{
		{false, 0, 3, true},
		{true, 1, 2, false},
	}
	for _, tt := range tests {
		d, b := smallARC(t, 3, tt.drop)
		if d.Dropped != tt.dropped {
			t.Fatalf("drop %v: dropped %d training pairs, want %d", tt.drop, d.Dropped, tt.dropped)
		}
		// Train: a 3 pairs, dup's, b 2 demos, each × 4 variants.
		if got, want := d.Train.Len(), (3+tt.dupPairs+2)*4; got != want {
			t.Fatalf("drop %v: train len=%d, want %d", tt.drop, got, want)
		}
		leak := canonicalHash(b.Test[0].Input, b.Test[0].Output)
		in, lab := make([]int32, d.SeqLen), make([]int32, d.SeqLen)
		found := false
		for i := 0; i < d.Train.Len(); i++ {
			d.Train.Get(i, in, lab)
			gi, _ := DecodeARC(in, 5)
			gl, _ := DecodeARC(fillPad(lab), 5)
			found = found || canonicalHash(gi, gl) == leak
		}
		if found != tt.leakTrains {
			t.Fatalf("drop %v: b's test pair in training = %v, want %v", tt.drop, found, tt.leakTrains)
		}
	}
}

func TestARCSplit(t *testing.T) {
	d, b := smallARC(t, 3, true)
	vars := d.NumPuzzleIDs - 1
	if vars != 12 { // 3 tasks × (1 + 3)
		t.Fatalf("%d variants, want 12", vars)
	}
	if got, want := d.Test.Len(), 4; got != want {
		t.Fatalf("test len=%d, want %d", got, want)
	}
	in, lab := make([]int32, d.SeqLen), make([]int32, d.SeqLen)
	answer := b.Test[0].Output
	for i := 0; i < d.Train.Len(); i++ {
		d.Train.Get(i, in, lab)
		for _, tok := range lab {
			if tok == 0 {
				t.Fatalf("train label %d holds pad, want IgnoreLabel", i)
			}
		}
	}
	for i := 0; i < d.Test.Len(); i++ {
		id := d.Test.Get(i, in, lab)
		_, v, _ := d.arc.locate(&d.arc.Test, i)
		if id != int32(v+1) {
			t.Fatalf("test sample %d: puzzle id %d, want %d", i, id, v+1)
		}
		g, _ := DecodeARC(fillPad(lab), 5)
		if back := d.arc.variant(v).Invert(g); !back.Equal(answer) {
			t.Fatalf("test label %d maps back to\n%v want\n%v", i, back, answer)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200; i++ {
		id := d.Train.Draw(rng, in, lab)
		if id < 1 || int(id) >= d.NumPuzzleIDs {
			t.Fatalf("drawn puzzle id %d outside 1..%d", id, d.NumPuzzleIDs-1)
		}
		for k := range in {
			if in[k] < 0 || in[k] >= arcVocab || lab[k] != IgnoreLabel && (lab[k] < 1 || lab[k] >= arcVocab) {
				t.Fatalf("drawn sample has tokens %d/%d at %d", in[k], lab[k], k)
			}
		}
	}
}

// fillPad turns IgnoreLabel back into pad so a label decodes like a
// prediction.
func fillPad(toks []int32) []int32 {
	out := append([]int32(nil), toks...)
	for i, t := range out {
		if t == IgnoreLabel {
			out[i] = arcPad
		}
	}
	return out
}

// perfectPreds returns the labels of a split as predictions.
func perfectPreds(s *Split, seqLen int) []int32 {
	preds := make([]int32, s.Len()*seqLen)
	in := make([]int32, seqLen)
	for i := 0; i < s.Len(); i++ {
		s.Get(i, in, preds[i*seqLen:(i+1)*seqLen])
	}
	return fillPad(preds)
}

func TestARCVoting(t *testing.T) {
	// One eval task with two test inputs and 3 variants each.
	g := func(v uint8) Grid { return gridOf([]uint8{v, 0}, []uint8{0, 0}) }
	e := Seal(Task{ID: "e", Train: []Pair{{g(1), g(2)}}, Test: []Pair{{g(3), g(4)}, {g(5), g(6)}}})
	d, err := NewARCDataset(nil, []EvalTask{e}, ARCOptions{Canvas: 4, Augment: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if d.Test.Len() != 6 {
		t.Fatalf("test len=%d, want 6", d.Test.Len())
	}
	L := d.SeqLen
	preds := make([]int32, 6*L)
	conf := make([]float32, 6)
	wrong := gridOf([]uint8{9, 9})
	for i := 0; i < 6; i++ {
		_, v, ex := d.arc.locate(&d.arc.Test, i)
		answer := d.arc.grid(d.arc.Test.ExOut[ex])
		right := i%2 == 0 || i == 3 // input 0: 3 of 3 right; input 1: 1 of 3
		if d.arc.Test.ExTest[ex] == 1 {
			right = v == int(d.arc.VarStart[0])
		}
		out := wrong
		if right {
			out = answer
		}
		copy(preds[i*L:], EncodeARC(d.arc.variant(v).Apply(out), 4))
		conf[i] = 0.5
	}
	m := d.Score(d.Test, preds, conf)
	want := map[string]float64{
		MetricExact:                 4.0 / 6,
		PassAtMetric(1, Strict):     0, // input 1's answer has 1 vote against 2
		PassAtMetric(1, Partial):    0.5,
		PassAtMetric(2, Strict):     1,
		PassAtMetric(2, Partial):    1,
		PassAtMetric(1000, Partial): -1, // only 3 voters: not reported
	}
	for k, w := range want {
		got, ok := m[k]
		if w < 0 {
			if ok {
				t.Fatalf("%s reported (%v), want absent", k, got)
			}
			continue
		}
		if !ok || got != w {
			t.Fatalf("%s=%v (present %v), want %v; all: %v", k, got, ok, w, m)
		}
	}
}

func TestRightRankTieBreak(t *testing.T) {
	pool := map[uint64]*candidate{
		1: {Hash: 1, Votes: 2, ConfSum: 1.8, Right: true},
		2: {Hash: 2, Votes: 2, ConfSum: 0.4},
	}
	if r := rightRank(pool); r != 0 {
		t.Fatalf("rank=%d, want 0 (same votes, higher confidence)", r)
	}
	pool[2].Votes = 3
	if r := rightRank(pool); r != 1 {
		t.Fatalf("rank=%d, want 1 (fewer votes)", r)
	}
	pool[1].Right = false
	if r := rightRank(pool); r != -1 {
		t.Fatalf("rank=%d, want -1 (absent)", r)
	}
}

// The real ARC-AGI-1 split: every demonstration trains, training-set test
// pairs train, evaluation test pairs are the test split, and two training
// pairs that are evaluation test pairs are dropped: training/40853293 is
// byte-identical to evaluation/070dd51e, and the third demonstration of
// training/caa06a1f is evaluation/50a16a69's test pair with colours 4, 5
// and 6 renamed — a leak only an augmentation-aware check finds.
func TestBuildARCAGI1(t *testing.T) {
	dir := arcAGI1(t)
	cfg := experiments.TaskConfig{Name: "arc", Source: dir, Seed: 1, DropLeaked: true}
	d, err := Build(cfg, "", ".")
	if err != nil {
		t.Fatal(err)
	}
	if d.Dropped != 2 {
		t.Fatalf("dropped=%d, want 2", d.Dropped)
	}
	if got, want := d.Train.Len(), 1302+1363+416-2; got != want {
		t.Fatalf("train len=%d, want %d", got, want)
	}
	if d.Test.Len() != 419 || d.Test.Puzzles() != 400 || d.NumPuzzleIDs != 801 || d.SeqLen != 900 || d.Vocab != 12 {
		t.Fatalf("test len=%d tasks=%d ids=%d seq=%d vocab=%d, want 419 400 801 900 12",
			d.Test.Len(), d.Test.Puzzles(), d.NumPuzzleIDs, d.SeqLen, d.Vocab)
	}
	m := d.Score(d.Test, perfectPreds(d.Test, d.SeqLen), nil)
	for _, k := range []string{MetricExact, PassAtMetric(1, Strict), PassAtMetric(2, Partial)} {
		if m[k] != 1 {
			t.Fatalf("perfect predictions: %s=%v, want 1", k, m[k])
		}
	}
	if testing.Short() {
		return
	}
	cfg.Augment, cfg.Votes, cfg.Test = 8, 4, 50
	d, err = Build(cfg, "", ".")
	if err != nil {
		t.Fatal(err)
	}
	if d.Test.Puzzles() != 50 {
		t.Fatalf("subsampled to %d evaluation tasks, want 50", d.Test.Puzzles())
	}
	for i := 0; i < d.Test.Len(); i++ {
		k, v, _ := d.arc.locate(&d.arc.Test, i)
		if local := v - int(d.arc.VarStart[d.arc.Test.Tasks[k]]); local >= 4 {
			t.Fatalf("test sample %d uses variant %d of its task, want < 4 (votes = 4)", i, local)
		}
	}
	m = d.Score(d.Test, perfectPreds(d.Test, d.SeqLen), nil)
	if m[PassAtMetric(1, Strict)] != 1 || m[MetricExact] != 1 {
		t.Fatalf("perfect augmented predictions: %v, want pass@1 and exact 1", m)
	}
}

// Translation moves a training example as a whole: input and label share
// the offset, and cropped back they are a training pair under a variant.
func TestARCDrawTranslates(t *testing.T) {
	d := mustBuild(t, experiments.TaskConfig{Name: "arc-lite", Size: 12, Train: 20, Test: 2, Augment: 3, Seed: 4}, "", ".")
	pairs := map[uint64]bool{}
	s := &d.arc.Train
	for e := range s.ExIn {
		pairs[canonicalHash(d.arc.grid(s.ExIn[e]), d.arc.grid(s.ExOut[e]))] = true
	}
	C := 12
	offset := func(toks []int32, blank int32) (int, int) {
		r0, c0 := C, C
		for i, v := range toks {
			if v != blank {
				r0, c0 = min(r0, i/C), min(c0, i%C)
			}
		}
		return r0, c0
	}
	shift := func(toks []int32, dr, dc int, blank int32) []int32 {
		out := make([]int32, C*C)
		for i := range out {
			out[i] = arcPad
		}
		for i, v := range toks {
			if v != blank {
				out[(i/C-dr)*C+i%C-dc] = v
			}
		}
		return out
	}
	rng := rand.New(rand.NewPCG(5, 5))
	in, lab := make([]int32, C*C), make([]int32, C*C)
	moved := 0
	for i := 0; i < 500; i++ {
		d.Train.Draw(rng, in, lab)
		ir, ic := offset(in, arcPad)
		lr, lc := offset(lab, IgnoreLabel)
		if ir != lr || ic != lc {
			t.Fatalf("input at (%d,%d), label at (%d,%d)", ir, ic, lr, lc)
		}
		if ir+ic > 0 {
			moved++
		}
		gi, ok1 := DecodeARC(shift(in, ir, ic, arcPad), C)
		gl, ok2 := DecodeARC(shift(lab, ir, ic, IgnoreLabel), C)
		if !ok1 || !ok2 || !pairs[canonicalHash(gi, gl)] {
			t.Fatalf("drawn sample is not a training pair moved by (%d,%d)", ir, ic)
		}
	}
	if moved < 100 || moved > 450 {
		t.Fatalf("%d of 500 draws moved, want most but not all", moved)
	}
}

func TestNewARCDatasetErrors(t *testing.T) {
	g := gridOf([]uint8{1})
	task := Task{ID: "t", Train: []Pair{{g, g}}, Test: []Pair{{g, g}}}
	big := Task{ID: "big", Train: []Pair{{NewGrid(6, 2), g}}, Test: []Pair{{g, g}}}
	tests := []struct {
		name  string
		train []Task
		eval  []EvalTask
		opt   ARCOptions
		want  string
	}{
		{"unsealed eval task", nil, []EvalTask{{ID: "e", Train: task.Train, Inputs: []Grid{g}}}, ARCOptions{Canvas: 5}, "make eval tasks with Seal"},
		{"grid too big", []Task{big}, []EvalTask{Seal(task)}, ARCOptions{Canvas: 5}, "arc task big: a 6×2 grid does not fit"},
		{"canvas", nil, nil, ARCOptions{Canvas: 31}, "arc canvas 31"},
		{"augment", nil, nil, ARCOptions{Canvas: 5, Augment: -1}, "want ≥ 0"},
	}
	for _, tt := range tests {
		_, err := NewARCDataset(tt.train, tt.eval, tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}
