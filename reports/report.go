package reports

import (
	"fmt"
	"os"
	"sort"

	"outerloop/experiments"
)

// Report is a grid's claim verdicts, statistics across seeds and figures.
type Report struct {
	Data     Data
	Verdicts []Verdict
	Figures  []Figure
	// Metric is the primary metric the accuracy figures and the summary
	// table show (the first claim's, else exact_accuracy), read where At
	// says ("final eval", "eval.loops=2").
	Metric string
	At     string
	// Configs summarise Metric across seeds per configuration.
	Configs []ConfigSummary
	Rules   Rules
}

// ConfigSummary is one configuration (the varying keys without the seed)
// across its seeds.
type ConfigSummary struct {
	Label string
	// Runs counts every run of the configuration, Done those that finished.
	Runs, Done int
	Summary    Summary
	// WallSeconds and TrainFLOPs are means over finished runs.
	WallSeconds, TrainFLOPs float64
}

// Build checks every claim and makes every figure with DefaultRules.
func Build(data Data) (*Report, error) { return DefaultRules().Build(data) }

// Build checks every claim and makes every figure. It fails only on data
// that cannot be reported (duplicate run ids) or a figure that cannot be
// drawn; claims that cannot be decided are Inconclusive verdicts.
func (r Rules) Build(data Data) (*Report, error) {
	seen := map[string]bool{}
	for _, run := range data.Runs {
		if seen[run.ID] {
			return nil, fmt.Errorf("build report for %s: run id %s appears twice", data.Grid.Name, run.ID)
		}
		seen[run.ID] = true
	}
	rep := &Report{Data: data, Rules: r}
	for _, c := range data.Claims {
		rep.Verdicts = append(rep.Verdicts, r.Check(c, data))
	}
	metric, at := primaryMetric(data)
	rep.Metric, rep.At = metric, at.AtText()
	rep.Configs = configs(data, metric, at)
	figs, err := buildFigures(data, metric, at)
	if err != nil {
		return nil, fmt.Errorf("build report for %s: %w", data.Grid.Name, err)
	}
	rep.Figures = figs
	return rep, nil
}

// primaryMetric picks what the figures show: the first claim's metric and
// point, else exact_accuracy, else the first evaluated metric by name. The
// point is a claim whose At and AtTrainLoops pick the inference loop.
func primaryMetric(d Data) (string, experiments.Claim) {
	final := experiments.Claim{}
	if len(d.Claims) > 0 && d.Claims[0].Metric != "" {
		c := d.Claims[0]
		if c.IncreasesWith == "eval.loops" {
			return c.Metric, final
		}
		return c.Metric, experiments.Claim{At: c.At, AtTrainLoops: c.AtTrainLoops}
	}
	var names []string
	for _, r := range d.Runs {
		for m := range r.Evals {
			if m == "exact_accuracy" {
				return m, final
			}
			names = append(names, m)
		}
	}
	if len(names) == 0 {
		return "", final
	}
	sort.Strings(names)
	return names[0], final
}

func configs(d Data, metric string, at experiments.Claim) []ConfigSummary {
	keys := d.varying()
	byConfig := map[string][]Run{}
	for _, run := range d.Runs {
		byConfig[label(run, keys)] = append(byConfig[label(run, keys)], run)
	}
	var out []ConfigSummary
	for _, l := range sortedLabels(byConfig) {
		cs := ConfigSummary{Label: l, Runs: len(byConfig[l])}
		var ys, wall, flops []float64
		for _, run := range byConfig[l] {
			if run.Status != StatusDone {
				continue
			}
			cs.Done++
			wall, flops = append(wall, run.WallSeconds), append(flops, run.TrainFLOPs)
			if y, why := usableValue(run, metric, at); why == "" {
				ys = append(ys, y)
			}
		}
		cs.Summary = summarizeMetric(metric, ys)
		if cs.Done > 0 {
			cs.WallSeconds, cs.TrainFLOPs = mean(wall), mean(flops)
		}
		out = append(out, cs)
	}
	return out
}

// WriteFigures writes every figure as SVG and PNG into dir, creating it.
func (rep *Report) WriteFigures(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create figure dir: %w", err)
	}
	for _, f := range rep.Figures {
		if err := f.writeFiles(dir); err != nil {
			return err
		}
	}
	return nil
}

// WriteHTML writes the report as one self-contained HTML file.
func (rep *Report) WriteHTML(path string) error {
	b, err := rep.HTML()
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
