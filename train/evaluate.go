package train

import (
	"fmt"
	"maps"
	"math"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"outerloop/experiments"
	"outerloop/models"
	"outerloop/tasks"
)

// logWindow accumulates step statistics between two log points.
type logWindow struct {
	steps int
	sum   stepStats
}

func newLogWindow() *logWindow { return &logWindow{} }

func (w *logWindow) add(s stepStats) {
	w.steps++
	w.sum.loss += s.loss
	w.sum.lm += s.lm
	w.sum.halt += s.halt
	w.sum.cont += s.cont
	w.sum.ponder += s.ponder
	w.sum.gradNorm += s.gradNorm
	w.sum.exact += s.exact
	w.sum.tokRight += s.tokRight
	w.sum.tokTotal += s.tokTotal
	w.sum.samples += s.samples
	w.sum.halted += s.halted
	w.sum.haltedSegments += s.haltedSegments
}

// log reports the window's means and the run's running totals.
func (e *engine) log(w *logWindow, lr, wall float64) {
	if w.steps == 0 {
		return
	}
	n := float64(w.steps)
	m := map[string]float64{
		"loss":           w.sum.loss / n,
		"lm_loss":        w.sum.lm / n,
		"grad_norm":      w.sum.gradNorm / n,
		"lr":             lr,
		"exact_accuracy": w.sum.exact / float64(max(w.sum.samples, 1)),
		"token_accuracy": w.sum.tokRight / math.Max(w.sum.tokTotal, 1),
		"train_flops":    e.flops,
		"wall_s":         wall,
		"rss_mb":         float64(models.RSSBytes()) / (1 << 20),
		"live_tensors":   float64(models.LiveTensors()),
		"threads":        float64(models.Threads()),
	}
	if wall > 0 {
		m["samples_per_s"] = float64(e.step*e.run.Train.Batch) / wall
	}
	if e.run.Train.Halting != experiments.HaltingOff {
		m["halt_loss"] = w.sum.halt / n
	}
	if e.run.Train.Halting == experiments.HaltingQ {
		m["continue_loss"] = w.sum.cont / n
	}
	if e.run.Model.ACT {
		m["ponder"] = w.sum.ponder / n
	}
	if w.sum.halted > 0 {
		m["halt_segments"] = w.sum.haltedSegments / w.sum.halted
	}
	for k, c := range e.haltHist {
		if c > 0 {
			m[fmt.Sprintf("halt_segments/%d", k)] = c
		}
	}
	for name, v := range m {
		e.obs.Metric(e.step, name, v)
	}
}

// evaluate runs eval.loops segments on the test split (with the EMA
// weights when enabled) and records, after every segment, the task's
// scores plus the mean halting probability and the fraction of samples
// that would have halted: one pass gives the inference-loop curve. With
// eval.pool_votes the last segment's ARC votes join the run's pool, whose
// pass@k is recorded beside this evaluation's.
func (e *engine) evaluate() {
	if e.ema != nil {
		e.ema.swap(e.params)
		defer e.ema.swap(e.params)
	}
	p := predict(e.model, e.data, e.data.Test, e.run.Eval, e.run.Train.Halting, e.run.Train.Gradient)
	curve := p.score(e.data, e.data.Test)
	if e.votes != nil {
		last := len(curve) - 1
		maps.Copy(curve[last], e.data.ScorePooled(p.preds[last], p.conf[last], e.votes))
	}
	for k, metrics := range curve {
		for name, v := range metrics {
			e.obs.Eval(e.step, k+1, name, v)
		}
	}
}

// Evaluate runs cfg.Loops segments on the first cfg.Samples samples of
// split (all when 0) and returns, for each segment count 1..Loops, the
// metrics after that many segments. halting says which halting rule the
// "halted_fraction" applies (q: q_halt > q_continue, else q_halt > 0).
func Evaluate(m *models.Model, data *tasks.Dataset, split *tasks.Split, cfg experiments.EvalConfig, halting experiments.Halting, gradient experiments.Gradient) []map[string]float64 {
	return predict(m, data, split, cfg, halting, gradient).score(data, split)
}

// predictions is what an evaluation pass produced after each segment k:
// the argmax tokens, the halting confidence per sample (sigmoid of
// q_halt), and the summed halting probability and halted count.
type predictions struct {
	n      int
	preds  [][]int32
	conf   [][]float32
	haltP  []float64
	halted []float64
}

// score turns the predictions into the metrics after each segment.
func (p *predictions) score(data *tasks.Dataset, split *tasks.Split) []map[string]float64 {
	curve := make([]map[string]float64, len(p.preds))
	for k := range curve {
		curve[k] = data.Score(split, p.preds[k], p.conf[k])
		curve[k]["halt_probability"] = p.haltP[k] / float64(p.n)
		curve[k]["halted_fraction"] = p.halted[k] / float64(p.n)
	}
	return curve
}

// predict runs the evaluation pass of Evaluate.
func predict(m *models.Model, data *tasks.Dataset, split *tasks.Split, cfg experiments.EvalConfig, halting experiments.Halting, gradient experiments.Gradient) *predictions {
	n := split.Len()
	if cfg.Samples > 0 && cfg.Samples < n {
		n = cfg.Samples
	}
	loops, batch := cfg.Loops, cfg.Batch
	l := data.SeqLen
	p := &predictions{n: n, preds: make([][]int32, loops), conf: make([][]float32, loops),
		haltP: make([]float64, loops), halted: make([]float64, loops)}
	for k := range p.preds {
		p.preds[k] = make([]int32, n*l)
		p.conf[k] = make([]float32, n)
	}
	device := m.Params.Device()
	input, label := make([]int32, l), make([]int32, l)
	for start := 0; start < n; start += batch {
		b := min(batch, n-start)
		tok := make([]int64, 0, b*l)
		pids := make([]int32, b)
		for i := 0; i < b; i++ {
			pids[i] = split.Get(start+i, input, label)
			for _, t := range input {
				tok = append(tok, int64(t))
			}
		}
		tokens := hostTensor(tok, []int64{int64(b), int64(l)}, device)
		models.NoGrad(func() {
			var rows *ts.Tensor
			if m.Puzzle != nil {
				rows = m.Puzzle.Rows(pids, device)
			}
			p.segments(m, tokens, rows, start, b, halting, gradient)
		})
		tokens.MustDrop()
	}
	return p
}

// segments runs every segment on a batch of b samples, those from start
// on, and stores what each segment predicted.
func (p *predictions) segments(m *models.Model, tokens, rows *ts.Tensor, start, b int, halting experiments.Halting, gradient experiments.Gradient) {
	l := len(p.preds[0]) / p.n
	carry := m.InitCarry(int64(b))
	for k := range p.preds {
		next, out := m.Segment(carry, tokens, rows, gradient)
		carry.Drop()
		carry = next
		am := out.Logits.MustArgmax([]int64{-1}, false, false).MustTotype(gotch.Int, true)
		am.MustCopyData(p.preds[k][start*l:(start+b)*l], uint(b*l))
		am.MustDrop()
		qh, qc := out.QHalt.Float64Values(), out.QContinue.Float64Values()
		for i := 0; i < b; i++ {
			prob := 1 / (1 + math.Exp(-qh[i]))
			p.conf[k][start+i] = float32(prob)
			p.haltP[k] += prob
			if wouldHalt(halting, qh[i], qc[i]) {
				p.halted[k]++
			}
		}
		out.Drop()
	}
	carry.Drop()
}

// wouldHalt is the rule "halted_fraction" applies: q's under q, else bce's
// (under off nothing trains the halting head; the fraction shows its vote).
func wouldHalt(halting experiments.Halting, qHalt, qContinue float64) bool {
	switch halting {
	case experiments.HaltingQ:
		return qHalt > qContinue
	case experiments.HaltingBCE, experiments.HaltingOff:
		return qHalt > 0
	}
	panic(experiments.UnknownValue("train.halting", halting))
}
