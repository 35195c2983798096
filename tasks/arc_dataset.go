package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
)

// ARCOptions sizes an ARC-style dataset (NewARCDataset).
type ARCOptions struct {
	// Name labels the dataset ("arc", "arc-lite-12").
	Name string
	// Canvas is the side of the token canvas: 30 for ARC, the largest grid
	// side for arc-lite. Every grid must fit.
	Canvas int
	// Augment is the number of distinct variants per task besides the
	// original (papers: 1000); each has its own puzzle id.
	Augment int
	// Votes caps the variants per test input whose predictions vote,
	// counting the original (0 = all), for the ARC Prize ablation of the
	// voting pool.
	Votes int
	// Translate places training examples at a random offset in Draw, all
	// but one per variant (HRM), so position is not a shortcut.
	Translate bool
	// DropLeaked leaves out of training a pair that is, up to augmentation,
	// a test pair of another eval task. The papers' builders keep it.
	DropLeaked bool
	// Seed fixes the variants.
	Seed int64
}

// arcData is an ARC-style dataset: original grids plus the variant list.
// Samples are rendered from them on demand, so 1000 variants per task cost
// a few bytes each instead of two 900-token canvases per example.
type arcData struct {
	Canvas int
	// DropLeaked says training holds no other eval task's test pair
	// (ARCOptions.DropLeaked), which checkDataset then verifies.
	DropLeaked bool
	// Grid k has shape GridH[k]×GridW[k] and cells Cells[GridOff[k]:].
	Cells        []uint8
	GridOff      []int32
	GridH, GridW []uint8
	TaskIDs      []string
	// Task t's variants are VarStart[t]..VarStart[t+1]-1; the first is the
	// identity. Variant v applies VarDihedral[v], then VarColours[10v:10v+10];
	// its puzzle id is v+1 (0 is the blank id).
	VarStart    []int32
	VarDihedral []uint8
	VarColours  []uint8
	Train, Test arcSplitData
}

// arcSplitData lists one split's examples, grouped by task.
type arcSplitData struct {
	// Translate moves examples to random offsets in Draw (training only).
	Translate bool
	// MaxVariants caps the variants per task in this split (0 = all).
	MaxVariants int
	// Split-task k is task Tasks[k] with examples ExStart[k]..ExStart[k+1]-1.
	Tasks   []int32
	ExStart []int32
	// Example e maps grid ExIn[e] to grid ExOut[e]; ExTest[e] is its test
	// index in the task, -1 for a demonstration.
	ExIn, ExOut []int32
	ExTest      []int16
	// SampleStart[k] is the first sample of split-task k; samples run over
	// the task's variants, each over its examples.
	SampleStart []int
}

func (a *arcData) grid(k int32) Grid {
	return Grid{H: int(a.GridH[k]), W: int(a.GridW[k]), Cells: a.Cells[a.GridOff[k]:a.GridOff[k+1]]}
}

func (a *arcData) addGrid(g Grid) int32 {
	k := int32(len(a.GridH))
	a.Cells = append(a.Cells, g.Cells...)
	a.GridH = append(a.GridH, uint8(g.H))
	a.GridW = append(a.GridW, uint8(g.W))
	a.GridOff = append(a.GridOff, int32(len(a.Cells)))
	return k
}

func (a *arcData) variant(v int) ARCVariant {
	out := ARCVariant{Dihedral: Dihedral(a.VarDihedral[v])}
	copy(out.Colours[:], a.VarColours[10*v:10*v+10])
	return out
}

// NewARCDataset builds the papers' transductive ARC split. The training
// split holds every demonstration pair of train and eval tasks and the
// test pairs of train tasks; the test split holds the eval tasks' test
// inputs, labelled with their sealed outputs. With opt.DropLeaked, a
// training pair that is (up to augmentation) a test pair of another eval
// task is dropped and counted in Dataset.Dropped. ARC-AGI-1 has two:
// training/40853293 is a copy of evaluation/070dd51e, and a demonstration
// of training/caa06a1f is evaluation/50a16a69's test pair recoloured.
// ARC-AGI-2's training2 holds most ARC-AGI-1 evaluation tasks, so mixing
// the two leaks many.
func NewARCDataset(train []Task, eval []EvalTask, opt ARCOptions) (*Dataset, error) {
	if opt.Canvas < 1 || opt.Canvas > MaxARCSide {
		return nil, fmt.Errorf("arc canvas %d: want 1..%d", opt.Canvas, MaxARCSide)
	}
	if opt.Augment < 0 || opt.Votes < 0 {
		return nil, fmt.Errorf("arc augment %d, votes %d: want ≥ 0", opt.Augment, opt.Votes)
	}
	a := &arcData{
		Canvas:     opt.Canvas,
		DropLeaked: opt.DropLeaked,
		GridOff:    []int32{0},
		VarStart:   []int32{0},
		Train:      arcSplitData{Translate: opt.Translate, ExStart: []int32{0}, SampleStart: []int{0}},
		Test:       arcSplitData{MaxVariants: opt.Votes, ExStart: []int32{0}, SampleStart: []int{0}},
	}
	tasks, err := arcTasks(train, eval, opt.Canvas)
	if err != nil {
		return nil, err
	}
	// Drawing distinct variants is most of the build (1000 per task in the
	// papers); each task has its own random stream, so it runs in parallel
	// and gives the same variants on any number of cores.
	variants := make([][]ARCVariant, len(tasks))
	parallelFor(len(tasks), func(t int) {
		rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0xa2c<<40^uint64(t)))
		variants[t] = taskVariants(rng, tasks[t].visible(), opt.Augment)
	})
	b := arcBuilder{a: a}
	if opt.DropLeaked {
		b.owners = testPairOwners(eval)
	}
	for t, task := range tasks {
		b.addTask(task, variants[t])
	}
	d := &Dataset{
		Name:         opt.Name,
		Vocab:        arcVocab,
		SeqLen:       opt.Canvas * opt.Canvas,
		NumPuzzleIDs: 1 + len(a.VarDihedral),
		Dropped:      b.dropped,
		kind:         kindARC,
		arc:          a,
	}
	d.Train = &Split{name: "train", seqLen: d.SeqLen, arc: a, arcSplit: &a.Train}
	d.Test = &Split{name: "test", seqLen: d.SeqLen, arc: a, arcSplit: &a.Test}
	return d, nil
}

// arcTask is a train or eval task on its way into an arcData: demos and
// trainTests go to training, testInputs with answers to the test split.
// evalIndex is the task's index among eval tasks, -1 for a train task.
type arcTask struct {
	id                  string
	demos, trainTests   []Pair
	testInputs, answers []Grid
	evalIndex           int
}

// arcTasks lists train then eval tasks, checking that every grid fits the
// canvas and every eval task came from Seal.
func arcTasks(train []Task, eval []EvalTask, canvas int) ([]arcTask, error) {
	tasks := make([]arcTask, 0, len(train)+len(eval))
	for _, t := range train {
		tasks = append(tasks, arcTask{id: t.ID, demos: t.Train, trainTests: t.Test, evalIndex: -1})
	}
	for j, e := range eval {
		if len(e.answers) != len(e.Inputs) {
			return nil, fmt.Errorf("arc eval task %s: %d answers for %d test inputs (make eval tasks with Seal)", e.ID, len(e.answers), len(e.Inputs))
		}
		tasks = append(tasks, arcTask{id: e.ID, demos: e.Train, testInputs: e.Inputs, answers: e.answers, evalIndex: j})
	}
	for _, t := range tasks {
		if err := t.fits(canvas); err != nil {
			return nil, err
		}
	}
	return tasks, nil
}

// visible returns the grids a model sees of the task: what variants are
// told apart by.
func (t arcTask) visible() []Grid {
	out := make([]Grid, 0, 2*len(t.demos)+len(t.trainTests)+len(t.testInputs))
	for _, p := range t.demos {
		out = append(out, p.Input, p.Output)
	}
	for _, p := range t.trainTests {
		out = append(out, p.Input)
	}
	return append(out, t.testInputs...)
}

func (t arcTask) fits(canvas int) error {
	grids := append(t.visible(), t.answers...)
	for _, p := range t.trainTests {
		grids = append(grids, p.Output)
	}
	for _, g := range grids {
		if g.H < 1 || g.W < 1 || g.H > canvas || g.W > canvas || len(g.Cells) != g.H*g.W {
			return fmt.Errorf("arc task %s: a %d×%d grid does not fit the %d×%d canvas", t.id, g.H, g.W, canvas, canvas)
		}
	}
	return nil
}

// testPairOwners maps the canonical hash of every eval test pair to the
// eval tasks it is a test pair of.
func testPairOwners(eval []EvalTask) map[uint64][]int {
	owners := map[uint64][]int{}
	for j, e := range eval {
		for i, in := range e.Inputs {
			h := canonicalHash(in, e.answers[i])
			owners[h] = append(owners[h], j)
		}
	}
	return owners
}

// arcBuilder accumulates tasks into an arcData.
type arcBuilder struct {
	a *arcData
	// owners maps the canonical hash of a test pair to its eval tasks
	// when leaked pairs are dropped (nil keeps them).
	owners  map[uint64][]int
	dropped int
}

// addTask appends task with its variants. A training pair that is a test
// pair of another eval task listed in owners is dropped; an eval task's own
// demonstrations stay even when they resemble its test pair, as they are
// part of it.
func (b *arcBuilder) addTask(task arcTask, variants []ARCVariant) {
	a := b.a
	t := int32(len(a.TaskIDs))
	a.TaskIDs = append(a.TaskIDs, task.id)
	leaks := func(p Pair) bool {
		if b.owners == nil {
			return false // kept: no need to hash
		}
		for _, owner := range b.owners[canonicalHash(p.Input, p.Output)] {
			if owner != task.evalIndex {
				return true
			}
		}
		return false
	}
	var trainEx [][2]int32
	var trainIdx []int16
	for i, p := range slices.Concat(task.demos, task.trainTests) {
		if leaks(p) {
			b.dropped++
			continue
		}
		trainEx = append(trainEx, [2]int32{a.addGrid(p.Input), a.addGrid(p.Output)})
		trainIdx = append(trainIdx, int16(max(i-len(task.demos), -1)))
	}
	var testEx [][2]int32
	var testIdx []int16
	for i, in := range task.testInputs {
		testEx = append(testEx, [2]int32{a.addGrid(in), a.addGrid(task.answers[i])})
		testIdx = append(testIdx, int16(i))
	}
	for _, v := range variants {
		a.VarDihedral = append(a.VarDihedral, uint8(v.Dihedral))
		a.VarColours = append(a.VarColours, v.Colours[:]...)
	}
	a.VarStart = append(a.VarStart, int32(len(a.VarDihedral)))
	b.addExamples(&a.Train, t, trainEx, trainIdx)
	b.addExamples(&a.Test, t, testEx, testIdx)
}

func (b *arcBuilder) addExamples(s *arcSplitData, t int32, ex [][2]int32, idx []int16) {
	if len(ex) == 0 {
		return
	}
	s.Tasks = append(s.Tasks, t)
	for i, e := range ex {
		s.ExIn = append(s.ExIn, e[0])
		s.ExOut = append(s.ExOut, e[1])
		s.ExTest = append(s.ExTest, idx[i])
	}
	s.ExStart = append(s.ExStart, int32(len(s.ExIn)))
	n := b.a.variants(s, t) * len(ex)
	s.SampleStart = append(s.SampleStart, s.SampleStart[len(s.SampleStart)-1]+n)
}

// variants returns how many of task t's variants split s uses.
func (a *arcData) variants(s *arcSplitData, t int32) int {
	n := int(a.VarStart[t+1] - a.VarStart[t])
	if s.MaxVariants > 0 {
		n = min(n, s.MaxVariants)
	}
	return n
}

func (s *arcSplitData) len() int { return s.SampleStart[len(s.SampleStart)-1] }

// locate returns split-task k, variant v and example e of sample i.
func (a *arcData) locate(s *arcSplitData, i int) (k, v, e int) {
	k = sort.Search(len(s.Tasks), func(k int) bool { return s.SampleStart[k+1] > i })
	j := i - s.SampleStart[k]
	nEx := int(s.ExStart[k+1] - s.ExStart[k])
	return k, int(a.VarStart[s.Tasks[k]]) + j/nEx, int(s.ExStart[k]) + j%nEx
}

// render writes example e under variant v at offset (dr, dc).
func (a *arcData) render(e, v, dr, dc int, s *arcSplitData, input, label []int32) int32 {
	va := a.variant(v)
	encodeARC(input, a.Canvas, a.grid(s.ExIn[e]), va, dr, dc, arcPad)
	encodeARC(label, a.Canvas, a.grid(s.ExOut[e]), va, dr, dc, IgnoreLabel)
	return int32(v + 1)
}

func (a *arcData) get(s *arcSplitData, i int, input, label []int32) int32 {
	_, v, e := a.locate(s, i)
	return a.render(e, v, 0, 0, s, input, label)
}

// draw samples as HRM's sampler does in expectation: an example of a random
// task weighted by its example count, under a random variant of that task.
func (a *arcData) draw(s *arcSplitData, rng *rand.Rand, input, label []int32) int32 {
	e := rng.IntN(len(s.ExIn))
	k := sort.Search(len(s.Tasks), func(k int) bool { return int(s.ExStart[k+1]) > e })
	t := s.Tasks[k]
	local := rng.IntN(a.variants(s, t))
	v := int(a.VarStart[t]) + local
	dr, dc := 0, 0
	nEx := int(s.ExStart[k+1] - s.ExStart[k])
	// One example per variant stays at the corner, where test inputs are.
	if s.Translate && local%nEx != e-int(s.ExStart[k]) {
		in, out := a.grid(s.ExIn[e]), a.grid(s.ExOut[e])
		d := Dihedral(a.VarDihedral[v])
		ih, iw := d.Shape(in.H, in.W)
		oh, ow := d.Shape(out.H, out.W)
		dr = rng.IntN(a.Canvas - max(ih, oh) + 1)
		dc = rng.IntN(a.Canvas - max(iw, ow) + 1)
	}
	return a.render(e, v, dr, dc, s, input, label)
}
