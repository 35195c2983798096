package train

import (
	"math/rand/v2"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/models"
	"outerloop/tasks"
)

// engine is one run's training state: the model, its optimiser and EMA, the
// samples in flight with their carried state, and the counters a
// checkpoint must restore.
type engine struct {
	run     experiments.RunSpec
	model   *models.Model
	data    *tasks.Dataset
	obs     harness.Recorder
	budget  harness.ThreadBudget // nil: a fixed thread count
	threads int                  // libtorch threads now
	device  gotch.Device
	params  []*ts.Tensor
	opt     *adam
	ema     *ema
	votes   *tasks.VotePool // the ARC votes of every evaluation so far (eval.pool_votes)
	k       *constants
	pcg     *rand.PCG
	rng     *rand.Rand

	slots *slots
	carry *models.Carry // state of the samples in slots, detached

	step     int       // optimiser steps done
	wall     float64   // training seconds, summed over resumes
	flops    float64   // analytic training FLOPs so far
	haltHist []float64 // haltHist[k]: samples that halted after k segments
}

// slots holds the B samples in flight (host side) and how far each got.
type slots struct {
	B, L     int
	inputs   []int32 // B×L
	labels   []int32 // B×L
	pids     []int32 // B
	segments []int   // segments run since the sample entered
	halted   []bool  // halted at the last step: replaced at the next
	batchSeg int     // same-batch: segments run on the current batch
	minSeg   int     // same-batch: exploration's minimum for this batch
}

func newEngine(run experiments.RunSpec, m *models.Model, data *tasks.Dataset, obs harness.Recorder) *engine {
	params := m.Params.Trainable()
	e := &engine{
		run: run, model: m, data: data, obs: obs,
		device:   m.Params.Device(),
		params:   params,
		opt:      newAdam(params, run.Train),
		k:        newConstants(),
		haltHist: make([]float64, run.Train.Loops+1),
	}
	e.rng, e.pcg = newRNG(run.Seed)
	if run.Train.EMA {
		e.ema = newEMA(params, run.Train.EMARate)
	}
	if run.Eval.PoolVotes {
		e.votes = data.NewVotePool()
	}
	b, l := run.Train.Batch, data.SeqLen
	e.slots = &slots{
		B: b, L: l,
		inputs: make([]int32, b*l), labels: make([]int32, b*l), pids: make([]int32, b),
		segments: make([]int, b), halted: make([]bool, b),
	}
	for i := range e.slots.halted {
		e.slots.halted[i] = true // every slot starts empty
	}
	e.carry = m.InitCarry(int64(b))
	return e
}

func (e *engine) drop() {
	e.opt.drop()
	if e.ema != nil {
		e.ema.drop()
	}
	e.carry.Drop()
	e.k.drop()
}

// stepStats is what one optimiser step measured.
type stepStats struct {
	loss, lm, halt, cont, ponder float64
	exact, tokRight, tokTotal    float64
	gradNorm                     float64
	samples                      int
	halted, haltedSegments       float64
}

// trainStep runs one deep-supervision segment on the samples in flight
// and applies one optimiser update: the TRM/HRM training step.
func (e *engine) trainStep(lr float64) stepStats {
	cfg := e.run.Train
	s := e.slots
	// Refill: halted samples (carry) or a finished batch (same-batch) are
	// replaced by fresh draws whose state is reset.
	e.refill()
	tokens := hostTensor(widen(s.inputs), []int64{int64(s.B), int64(s.L)}, e.device)
	labels := hostTensor(widen(s.labels), []int64{int64(s.B), int64(s.L)}, e.device)
	defer tokens.MustDrop()
	defer labels.MustDrop()
	var rows *ts.Tensor
	if e.model.Puzzle != nil {
		rows = e.model.Puzzle.Rows(s.pids, e.device)
	}

	// Forward one segment from the carried (detached) state.
	zeroGrad(e.params)
	next, out := e.model.Segment(e.carry, tokens, rows, cfg.Gradient)
	defer out.Drop()
	for i := range s.segments {
		s.segments[i]++
	}
	s.batchSeg++

	// Losses: token loss + 0.5 × halting BCE (+ ponder cost for UT's ACT).
	var st stepStats
	loss := tokenLoss(cfg.Loss, out.Logits, labels, e.k)
	seq, right, total := correctness(out.Logits, labels, e.k)
	defer seq.MustDrop()
	st.tokRight, st.tokTotal, st.samples = right, total, s.B
	correct := seq.MustTotype(gotch.Float, false)
	defer correct.MustDrop()
	st.exact = correct.MustMean(gotch.Double, false).Float64Values(true)[0] * float64(s.B)
	st.lm = scalarOf(loss)
	e.flops += float64(s.B) * e.model.SegmentFLOPs(cfg.Gradient, true)
	if cfg.Halting != experiments.HaltingOff {
		// The halt target is "the answer is fully correct" (HRM/TRM).
		hl := bce(out.QHalt, correct)
		st.halt = scalarOf(hl)
		loss = addScaled(loss, hl, 0.5)
		hl.MustDrop()
		if cfg.Halting == experiments.HaltingQ {
			target := e.continueTarget(next, tokens, rows)
			cl := bce(out.QContinue, target)
			target.MustDrop()
			st.cont = scalarOf(cl)
			loss = addScaled(loss, cl, 0.5)
			cl.MustDrop()
			e.flops += float64(s.B) * e.model.SegmentFLOPs(cfg.Gradient, false)
		}
	}
	if out.Ponder != nil {
		st.ponder = scalarOf(out.Ponder)
		loss = addScaled(loss, out.Ponder, e.run.Model.PonderCost)
	}
	st.loss = scalarOf(loss)

	// Backward, clip, update (Adam, the puzzle embedding's sign-SGD, EMA).
	loss.MustBackward()
	loss.MustDrop()
	st.gradNorm = clipGradNorm(e.params, cfg.GradClip)
	e.opt.step(lr)
	if e.model.Puzzle != nil {
		e.model.Puzzle.Step(lr/cfg.LR*cfg.PuzzleEmbLR, cfg.PuzzleEmbWeightDecay)
	}
	if e.ema != nil {
		e.ema.update(e.params)
	}

	// Halting decides which samples leave; the carry is cut from the graph.
	e.decideHalting(out)
	for i, h := range s.halted {
		if h {
			st.halted++
			st.haltedSegments += float64(s.segments[i])
		}
	}
	e.carry.Drop()
	e.carry = next.Detach()
	next.Drop()
	return st
}

// refill draws new samples into the slots that need them and resets their
// carried state to the initial one.
func (e *engine) refill() {
	s := e.slots
	if e.run.Train.Schedule == experiments.ScheduleSameBatch && s.batchSeg > 0 && !s.halted[0] {
		return // the batch is still being refined
	}
	drew := false
	for i, h := range s.halted {
		if !h {
			continue
		}
		drew = true
		s.pids[i] = e.data.Train.Draw(e.rng, s.inputs[i*s.L:(i+1)*s.L], s.labels[i*s.L:(i+1)*s.L])
		s.segments[i], s.halted[i] = 0, false
	}
	if !drew {
		return
	}
	s.batchSeg = 0
	s.minSeg = e.explorationMinimum()
	mask := make([]bool, s.B)
	for i := range mask {
		mask[i] = s.segments[i] == 0
	}
	m := hostTensor(mask, []int64{int64(s.B)}, e.device)
	reset := e.model.Reset(e.carry, m)
	m.MustDrop()
	e.carry.Drop()
	e.carry = reset
}

// explorationMinimum is the segment count below which a sample may not
// halt: with probability `exploration` a draw from {2..loops}, else 1
// (HRM hrm_act_v1.py min_halt_steps).
func (e *engine) explorationMinimum() int {
	n := e.run.Train.Loops
	if n > 1 && e.rng.Float64() < e.run.Train.Exploration {
		return 2 + e.rng.IntN(n-1)
	}
	return 1
}

// decideHalting marks which samples halt after this segment. Training
// halts a sample at `loops` segments or when its halting head says so
// (bce: q_halt > 0; q: q_halt > q_continue), unless exploration holds it.
func (e *engine) decideHalting(out *models.Output) {
	cfg := e.run.Train
	s := e.slots
	var qh, qc []float64
	if cfg.Halting != experiments.HaltingOff {
		qh = out.QHalt.Float64Values()
		if cfg.Halting == experiments.HaltingQ {
			qc = out.QContinue.Float64Values()
		}
	}
	signal := func(i int) bool {
		switch cfg.Halting {
		case experiments.HaltingBCE:
			return qh[i] > 0
		case experiments.HaltingQ:
			return qh[i] > qc[i]
		case experiments.HaltingOff:
			return false
		}
		panic(experiments.UnknownValue("train.halting", cfg.Halting))
	}
	switch cfg.Schedule {
	case experiments.ScheduleSameBatch:
		// The whole batch moves on when every sample would halt, or at loops.
		done := s.batchSeg >= cfg.Loops
		if !done && cfg.Halting != experiments.HaltingOff && s.batchSeg >= s.minSeg {
			done = true
			for i := 0; i < s.B; i++ {
				done = done && signal(i)
			}
		}
		if done {
			for i := range s.halted {
				s.halted[i] = true
				e.haltHist[s.segments[i]]++
			}
		}
	case experiments.ScheduleCarry:
		for i := 0; i < s.B; i++ {
			least := 1
			if cfg.Halting != experiments.HaltingOff {
				least = e.explorationMinimum() // drawn every step, as HRM does
			}
			h := s.segments[i] >= cfg.Loops || (signal(i) && s.segments[i] >= least)
			s.halted[i] = h
			if h {
				e.haltHist[s.segments[i]]++
			}
		}
	default:
		panic(experiments.UnknownValue("train.schedule", cfg.Schedule))
	}
}

// continueTarget is Q-learning's target for the continue logit: the
// sigmoid of the next segment's max(q_halt, q_continue), or of q_halt when
// the next segment is the last, from an extra forward pass without
// gradient on the detached next state (HRM hrm_act_v1.py).
func (e *engine) continueTarget(next *models.Carry, tokens, rows *ts.Tensor) *ts.Tensor {
	var target *ts.Tensor
	models.NoGrad(func() {
		d := next.Detach()
		after, out := e.model.Segment(d, tokens, rows, e.run.Train.Gradient)
		best := out.QHalt.MustMaximum(out.QContinue, false)
		last := make([]bool, e.slots.B)
		for i, n := range e.slots.segments { // segments already counts this one
			last[i] = n >= e.run.Train.Loops
		}
		lm := hostTensor(last, []int64{int64(len(last))}, e.device)
		target = out.QHalt.MustWhereSelf(lm, best, false).MustSigmoid(true)
		for _, t := range []*ts.Tensor{best, lm} {
			t.MustDrop()
		}
		out.Drop()
		after.Drop()
		d.Drop()
	})
	return target
}

// newRNG is the run's data and exploration stream, seeded by the run seed
// and checkpointed with the run.
func newRNG(seed int64) (*rand.Rand, *rand.PCG) {
	pcg := rand.NewPCG(uint64(seed), 0x6f75746572)
	return rand.New(pcg), pcg
}

func widen(v []int32) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

func scalarOf(t *ts.Tensor) float64 { return t.Float64Values()[0] }

// addScaled returns a + w·b, freeing a (b stays with its owner).
func addScaled(a, b *ts.Tensor, w float64) *ts.Tensor {
	s := ts.FloatScalar(w)
	wb := b.MustMulScalar(s, false)
	out := a.MustAdd(wb, true)
	wb.MustDrop()
	s.MustDrop()
	return out
}
