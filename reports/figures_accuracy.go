package reports

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"

	"outerloop/experiments"
)

// buildFigures makes every figure the data supports, in report order. The
// accuracy figures plot metric read where at's At and AtTrainLoops say;
// without a metric (no evaluations) only the training figures remain.
func buildFigures(d Data, metric string, at experiments.Claim) ([]Figure, error) {
	var figs []Figure
	var builders []func() ([]Figure, error)
	if metric != "" {
		builders = append(builders,
			func() ([]Figure, error) { return accuracyVsTrainLoops(d, metric, at) },
			func() ([]Figure, error) { return accuracyVsInferenceLoops(d, metric) },
			func() ([]Figure, error) { return accuracyVsFLOPs(d, metric, at) })
	}
	builders = append(builders,
		func() ([]Figure, error) { return learningCurves(d) },
		func() ([]Figure, error) { return haltingHistogram(d) })
	for _, build := range builders {
		fs, err := build()
		if err != nil {
			return nil, err
		}
		figs = append(figs, fs...)
	}
	return figs, nil
}

// lineData gathers one line's values by x and the runs left out of it.
type lineData struct {
	byX      map[float64][]float64
	excluded []Exclusion
}

// lines groups values by line label, creating lines and x positions on
// first use so that an x where every run failed still gets a note.
type lines map[string]*lineData

func (ls lines) at(line string, x float64) *lineData {
	l := ls[line]
	if l == nil {
		l = &lineData{byX: map[float64][]float64{}}
		ls[line] = l
	}
	if _, ok := l.byX[x]; !ok {
		l.byX[x] = nil
	}
	return l
}

// draw adds every line to p with error bars, in natural label order, and
// returns the notes for what was left out.
func (ls lines) draw(p *plot.Plot, metric, xName string, offset bool) ([]string, error) {
	var notes []string
	labels := sortedLabels(ls)
	for i, name := range labels {
		l := ls[name]
		pts := points(l.byX, metric, name+", "+xName, &notes)
		if offset {
			pts = spread(pts, i, len(labels))
		}
		if len(l.excluded) > 0 {
			notes = append(notes, missing(name, l.excluded))
		}
		if err := addSeries(p, i, dagger(name, len(l.excluded) > 0), pts); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// accuracyVsTrainLoops is the outer-loop figure: the metric against
// training loops, one line per combination of the other varying keys (one
// per core in the outer-loop grid), mean and 95% CI across seeds.
func accuracyVsTrainLoops(d Data, metric string, at experiments.Claim) ([]Figure, error) {
	vary := d.varying()
	if !contains(vary, "train.loops") {
		return nil, nil
	}
	lineKeys := without(vary, "train.loops")
	ls := lines{}
	var levels []float64
	for _, r := range d.Runs {
		x := float64(r.Config.Train.Loops)
		levels = appendUnique(levels, x)
		l := ls.at(label(r, lineKeys), x)
		if y, why := usableValue(r, metric, at); why != "" {
			l.excluded = append(l.excluded, Exclusion{RunID: r.ID, Reason: why})
		} else {
			l.byX[x] = append(l.byX[x], y)
		}
	}
	p := newPlot("Accuracy vs training loops", "training loops (train.loops)", metric)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = powersOfTwoTicks(levels)
	notes, err := ls.draw(p, metric, "train.loops", true)
	if err != nil {
		return nil, err
	}
	includeZero(p)
	padLog(&p.X, levels)
	return []Figure{newFigure("accuracy-vs-train-loops", "Accuracy vs training loops",
		fmt.Sprintf("%s at %s against training loops (log scale), mean and 95%% CI across seeds (%s), one line per %s. Lines are nudged sideways so their error bars do not overlap; † marks a line with runs missing (see notes).",
			metric, at.AtText(), intervalText(metric), keysOrAll(lineKeys)),
		notes, p)}, nil
}

// accuracyVsInferenceLoops is the ARC Prize figure: the metric after each
// inference loop, one line per training-loop count (or per configuration
// when train.loops does not vary), one figure per remaining combination.
func accuracyVsInferenceLoops(d Data, metric string) ([]Figure, error) {
	vary := d.varying()
	lineKeys := []string{"train.loops"}
	if !contains(vary, "train.loops") {
		lineKeys = without(vary, "eval.loops")
	}
	panelKeys := without(vary, append(lineKeys, "eval.loops")...)
	panels, loops := inferenceCurves(d, metric, panelKeys, lineKeys)
	if len(loops) < 2 {
		return nil, nil
	}
	var figs []Figure
	for _, panel := range sortedLabels(panels) {
		name, title := "accuracy-vs-inference-loops", "Accuracy vs inference loops"
		if len(panels) > 1 {
			name, title = name+"-"+slug(panel), title+" ("+panel+")"
		}
		p := newPlot(title, "inference loops (eval.loops)", metric)
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = powersOfTwoTicks(powersOfTwo(loops))
		notes, err := panels[panel].draw(p, metric, "eval.loops", true)
		if err != nil {
			return nil, err
		}
		includeZero(p)
		padLog(&p.X, powersOfTwo(loops))
		figs = append(figs, newFigure(name, title,
			fmt.Sprintf("%s after each inference loop (log scale), mean and 95%% CI across seeds (%s), one line per %s: how much of the gain from training with more loops needs the loops at inference too. † marks a line with runs missing (see notes).",
				metric, intervalText(metric), keysOrAll(lineKeys)),
			notes, p))
	}
	return figs, nil
}

// inferenceCurves gathers every run's final evaluation curve by panel and
// line, noting runs without one and loop counts where a value diverged.
func inferenceCurves(d Data, metric string, panelKeys, lineKeys []string) (map[string]lines, []float64) {
	panels := map[string]lines{}
	var loops []float64
	for _, r := range d.Runs {
		curve := r.Evals[metric]
		panel, line := label(r, panelKeys), label(r, lineKeys)
		if panels[panel] == nil {
			panels[panel] = lines{}
		}
		ls := panels[panel]
		if r.Status != StatusDone || len(curve) == 0 {
			l := ls.at(line, 1)
			_, why := usableValue(r, metric, experiments.Claim{})
			if why == "" {
				why = "no final evaluation of " + metric
			}
			l.excluded = append(l.excluded, Exclusion{RunID: r.ID, Reason: why})
			continue
		}
		for _, n := range sortedKeys(curve) {
			loops = appendUnique(loops, float64(n))
			l := ls.at(line, float64(n))
			if y := curve[n]; finite(y) {
				l.byX[float64(n)] = append(l.byX[float64(n)], y)
			} else {
				l.excluded = append(l.excluded, Exclusion{RunID: r.ID, Reason: fmt.Sprintf("%s is %v at eval.loops=%d (diverged)", metric, y, n)})
			}
		}
	}
	return panels, loops
}

// flopsPoint is one configuration on a line of the compute figure.
type flopsPoint struct {
	flops, ys []float64
	excluded  []Exclusion
}

// flopsPoints gathers each run's FLOPs and metric by line and configuration.
func flopsPoints(d Data, metric string, at experiments.Claim, lineKeys, pointKeys []string) (map[string]map[string]*flopsPoint, bool) {
	byLine := map[string]map[string]*flopsPoint{}
	plotted := false
	for _, r := range d.Runs {
		line, cfg := label(r, lineKeys), label(r, pointKeys)
		if byLine[line] == nil {
			byLine[line] = map[string]*flopsPoint{}
		}
		pt := byLine[line][cfg]
		if pt == nil {
			pt = &flopsPoint{}
			byLine[line][cfg] = pt
		}
		y, why := usableValue(r, metric, at)
		if why == "" && !(r.TrainFLOPs > 0) {
			why = "no training FLOPs recorded"
		}
		if why != "" {
			pt.excluded = append(pt.excluded, Exclusion{RunID: r.ID, Reason: why})
			continue
		}
		plotted = true
		pt.flops, pt.ys = append(pt.flops, r.TrainFLOPs), append(pt.ys, y)
	}
	return byLine, plotted
}

// accuracyVsFLOPs is the compute-matched view: the metric against analytic
// training FLOPs, one line per training-loop count, so "more loops" can be
// told apart from "more compute". Points on a line are the configurations
// that differ in the other varying keys.
func accuracyVsFLOPs(d Data, metric string, at experiments.Claim) ([]Figure, error) {
	vary := d.varying()
	var lineKeys []string
	if contains(vary, "train.loops") {
		lineKeys = []string{"train.loops"}
	}
	pointKeys := without(vary, "train.loops")
	byLine, plotted := flopsPoints(d, metric, at, lineKeys, pointKeys)
	if !plotted {
		return nil, nil
	}
	p := newPlot("Accuracy vs training compute", "training FLOPs (analytic, log scale)", metric)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	var notes []string
	for i, line := range sortedLabels(byLine) {
		var pts []stat
		incomplete := false
		for _, cfg := range sortedLabels(byLine[line]) {
			pt := byLine[line][cfg]
			where := strings.TrimPrefix(line+", "+cfg, "all runs, ")
			if len(pt.excluded) > 0 {
				incomplete = true
				notes = append(notes, missing(where, pt.excluded))
			}
			if len(pt.ys) == 0 {
				continue
			}
			pts = append(pts, stat{X: mean(pt.flops), Summary: summarizeMetric(metric, pt.ys)})
		}
		sortStats(pts)
		if err := addSeries(p, i, dagger(line, incomplete), pts); err != nil {
			return nil, err
		}
	}
	includeZero(p)
	padLog(&p.X, nil)
	return []Figure{newFigure("accuracy-vs-flops", "Accuracy vs training compute",
		fmt.Sprintf("%s at %s against analytic training FLOPs (mean across seeds), mean and 95%% CI (%s), one line per %s; points on a line differ in %s. Lines at equal x compare loop counts at matched compute.",
			metric, at.AtText(), intervalText(metric), keysOrAll(lineKeys), keysOrAll(pointKeys)),
		notes, p)}, nil
}

func sortStats(pts []stat) {
	for i := 1; i < len(pts); i++ {
		for j := i; j > 0 && pts[j].X < pts[j-1].X; j-- {
			pts[j], pts[j-1] = pts[j-1], pts[j]
		}
	}
}

func appendUnique(xs []float64, x float64) []float64 {
	for _, v := range xs {
		if v == x {
			return xs
		}
	}
	return append(xs, x)
}

// powersOfTwo keeps the tick values that are powers of two, so a 1..16 axis
// is labelled 1, 2, 4, 8, 16 rather than crowded.
func powersOfTwo(xs []float64) []float64 {
	var out []float64
	for _, x := range xs {
		if l := math.Log2(x); l == math.Trunc(l) {
			out = append(out, x)
		}
	}
	return out
}

func keysOrAll(keys []string) string {
	if len(keys) == 0 {
		return "grid (a single configuration)"
	}
	return strings.Join(keys, ", ")
}
