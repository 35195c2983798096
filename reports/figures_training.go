package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// curveMetrics are the training metrics worth a learning curve; the rest
// (learning rate, memory, throughput, counters) stay in the database.
var curveMetrics = map[string]bool{"loss": true, "exact_accuracy": true, "token_accuracy": true, "halt_segments": true}

// learningCurves makes one figure per training metric in curveMetrics: the
// mean across seeds per configuration with a min–max band. Failed runs are kept:
// a diverged run's curve is drawn up to its last finite value and the point
// where it diverged is noted.
func learningCurves(d Data) ([]Figure, error) {
	metrics := map[string]bool{}
	for _, r := range d.Runs {
		for m, pts := range r.Curves {
			if len(pts) > 0 && curveMetrics[m] {
				metrics[m] = true
			}
		}
	}
	keys := d.varying()
	var figs []Figure
	for _, metric := range sortedLabels(metrics) {
		p := newPlot("Training "+metric, "step", metric)
		p.X.Tick.Marker = plainTicks{}
		byLine := map[string][]Run{}
		for _, r := range d.Runs {
			if len(r.Curves[metric]) > 0 {
				byLine[label(r, keys)] = append(byLine[label(r, keys)], r)
			}
		}
		var notes []string
		for i, line := range sortedLabels(byLine) {
			if err := curveLine(p, i, line, metric, byLine[line], &notes); err != nil {
				return nil, err
			}
		}
		figs = append(figs, newFigure("learning-curve-"+slug(metric), "Training "+metric,
			fmt.Sprintf("%s during training, mean across seeds with the min–max range shaded, one line per %s. † marks a line with a diverged run (see notes).",
				metric, keysOrAll(keys)),
			notes, p))
	}
	return figs, nil
}

// curveLine draws one configuration's mean curve and band.
func curveLine(p *plot.Plot, i int, line, metric string, runs []Run, notes *[]string) error {
	byStep := map[int][]float64{}
	diverged := false
	for _, r := range runs {
		for _, pt := range r.Curves[metric] {
			if !finite(pt.Value) {
				diverged = true
				*notes = append(*notes, fmt.Sprintf("%s: run %s (seed %d) diverged at step %d (%s = %v); drawn up to there",
					line, shortID(r.ID), r.Config.Seed, pt.Step, metric, pt.Value))
				break
			}
			byStep[pt.Step] = append(byStep[pt.Step], pt.Value)
		}
	}
	steps := sortedKeys(byStep)
	if len(steps) == 0 {
		*notes = append(*notes, line+": no finite value, not plotted")
		return nil
	}
	xs := make([]float64, len(steps))
	lo, hi := make([]float64, len(steps)), make([]float64, len(steps))
	meanLine := make(plotter.XYs, len(steps))
	for j, s := range steps {
		vs := byStep[s]
		xs[j] = float64(s)
		lo[j], hi[j] = minMax(vs)
		meanLine[j] = plotter.XY{X: float64(s), Y: mean(vs)}
	}
	if len(runs) > 1 {
		if err := band(p, i, xs, lo, hi); err != nil {
			return err
		}
	}
	l, err := plotter.NewLine(meanLine)
	if err != nil {
		return fmt.Errorf("plot %s curve %s: %w", metric, line, err)
	}
	l.Color, l.Dashes = palette(i), plotutil.Dashes(i)
	p.Add(l)
	p.Legend.Add(dagger(line, diverged), l)
	return nil
}

func minMax(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lo, hi
}

// haltingHistogram shows how many segments training samples used before
// halting, summed over seeds, as a fraction per configuration.
func haltingHistogram(d Data) ([]Figure, error) {
	keys := d.varying()
	counts := map[string][]float64{}
	maxSeg := 0
	for _, r := range d.Runs {
		if len(r.HaltSegments) == 0 {
			continue
		}
		l := label(r, keys)
		for len(counts[l]) < len(r.HaltSegments) {
			counts[l] = append(counts[l], 0)
		}
		for i, c := range r.HaltSegments {
			counts[l][i] += float64(c)
		}
		maxSeg = max(maxSeg, len(r.HaltSegments))
	}
	if len(counts) == 0 {
		return nil, nil
	}
	p := newPlot("Halting: segments used in training", "segments before halting", "fraction of training samples")
	names := make([]string, maxSeg)
	for i := range names {
		names[i] = strconv.Itoa(i + 1)
	}
	labels := sortedLabels(counts)
	// Bars of all configurations share 80% of one category slot; the data
	// area is about 80% of the figure once the axes are drawn.
	slot := (figureWidth * 0.8) / vg.Length(maxSeg)
	width := slot * 0.8 / vg.Length(len(labels))
	var notes []string
	for i, l := range labels {
		fractions := make(plotter.Values, maxSeg)
		total := 0.0
		for _, c := range counts[l] {
			total += c
		}
		if total == 0 {
			notes = append(notes, l+": no halted samples recorded, not plotted")
			continue
		}
		for j, c := range counts[l] {
			fractions[j] = c / total
		}
		bars, err := plotter.NewBarChart(fractions, width)
		if err != nil {
			return nil, fmt.Errorf("plot halting %s: %w", l, err)
		}
		bars.Color, bars.LineStyle.Width = palette(i), 0
		bars.Offset = width * vg.Length(float64(i)-float64(len(labels)-1)/2)
		p.Add(bars)
		p.Legend.Add(l, bars)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(maxSeg)-0.5
	sort.Strings(notes)
	return []Figure{newFigure("halting-segments", "Segments used in training",
		fmt.Sprintf("How many segments training samples ran before halting, as a fraction of all halted samples, summed over seeds, per %s.",
			keysOrAll(keys)),
		notes, p)}, nil
}
