package reports

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"outerloop/experiments"
	"outerloop/results"
)

// Training-metric names the report reads besides the learning curves. train
// logs them through the harness like any other metric.
const (
	// MetricTrainFLOPs is the cumulative analytic training compute; the
	// last value logged is the run's total.
	MetricTrainFLOPs = "train_flops"
	// HaltSegmentsPrefix + k ("halt_segments/3") counts, cumulatively, the
	// training samples that halted after k segments; the last values form
	// the halting histogram.
	HaltSegmentsPrefix = "halt_segments/"
)

// Load reads the report data of the grid called name from store: the grid as
// last planned and its runs with their metrics, final evaluations and
// provenance. The claims and sweep axes come from the grid file recorded at
// plan time; LoadGrid takes a grid already loaded instead.
func Load(ctx context.Context, store *results.Store, name string) (Data, error) {
	grids, err := store.Grids(ctx)
	if err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", name, err)
	}
	var info *results.GridSummary
	for i := range grids {
		if grids[i].Name == name {
			info = &grids[i]
		}
	}
	if info == nil {
		return Data{}, fmt.Errorf("load report data for %s: no grid of that name in %s", name, store.Path())
	}
	g, err := experiments.Load(info.Path, nil)
	if err != nil {
		return Data{}, fmt.Errorf("load report data for %s: read its claims from %s (pass the grid file if it moved): %w", name, info.Path, err)
	}
	stored, err := store.GridRuns(ctx, name)
	if err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", name, err)
	}
	d := Data{Grid: gridInfo(g), Claims: g.Expect}
	d.Grid.Title, d.Grid.Description = info.Title, info.Description
	if err := readRuns(ctx, store, stored, &d); err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", name, err)
	}
	return d, nil
}

// LoadGrid reads the report data for g's runs from store. Runs of the
// expansion that were never planned appear as pending.
func LoadGrid(ctx context.Context, store *results.Store, g *experiments.Grid) (Data, error) {
	specs, err := g.Expand()
	if err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", g.Name, err)
	}
	ids := make([]string, len(specs))
	for i, s := range specs {
		ids[i] = s.ID
	}
	stored, err := store.Runs(ctx, ids)
	if err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", g.Name, err)
	}
	d := Data{Grid: gridInfo(g), Claims: g.Expect}
	if err := readRuns(ctx, store, stored, &d); err != nil {
		return Data{}, fmt.Errorf("load report data for %s: %w", g.Name, err)
	}
	have := map[string]bool{}
	for _, r := range stored {
		have[r.ID] = true
	}
	for _, s := range specs {
		if !have[s.ID] {
			d.Runs = append(d.Runs, Run{ID: s.ID, Config: s, Status: string(results.Pending)})
		}
	}
	return d, nil
}

func gridInfo(g *experiments.Grid) GridInfo {
	info := GridInfo{Name: g.Name, Title: g.Title, Description: g.Description, Path: g.Path}
	for _, ax := range g.Axes {
		info.Varying = append(info.Varying, ax.Keys...)
	}
	return info
}

// readRuns decodes stored runs' typed configs and reads their metrics,
// evaluations and provenance into d.
func readRuns(ctx context.Context, store *results.Store, stored []results.Run, d *Data) error {
	byProvenance := map[string]int{}
	for _, sr := range stored {
		cfg, err := experiments.DecodeRunSpec(sr.Config)
		if err != nil {
			return fmt.Errorf("run %s: %w", sr.ID, err)
		}
		r := Run{ID: sr.ID, Config: cfg, Status: string(sr.Status), Error: sr.Error, WallSeconds: sr.Wall.Seconds()}
		if err := readMetrics(ctx, store, &r); err != nil {
			return err
		}
		if sr.Provenance != "" {
			i, ok := byProvenance[sr.Provenance]
			if !ok {
				p, err := store.Provenance(ctx, sr.Provenance)
				if err != nil {
					return err
				}
				i = len(d.Provenance)
				byProvenance[sr.Provenance] = i
				d.Provenance = append(d.Provenance, Provenance{Commit: p.GitCommit, Dirty: p.GitDirty, GoVersion: p.GoVersion,
					Torch: p.LibtorchVersion, TorchABI: p.LibtorchABI, Host: p.Host, CPU: p.CPUModel, Threads: p.Threads})
			}
			d.Provenance[i].RunIDs = append(d.Provenance[i].RunIDs, r.ID)
		}
		d.Runs = append(d.Runs, r)
	}
	return nil
}

// readMetrics fills a run's curves, FLOPs, halting histogram and final
// evaluation (the evaluation at the largest step: an intermediate one is a
// learning-curve point, not the result).
func readMetrics(ctx context.Context, store *results.Store, r *Run) error {
	metrics, err := store.Metrics(ctx, r.ID)
	if err != nil {
		return err
	}
	halted := map[int]float64{}
	for _, m := range metrics {
		switch {
		case m.Name == MetricTrainFLOPs:
			r.TrainFLOPs = m.Value // rows come by step, so the last wins
		case strings.HasPrefix(m.Name, HaltSegmentsPrefix):
			if k, err := strconv.Atoi(strings.TrimPrefix(m.Name, HaltSegmentsPrefix)); err == nil && k >= 1 {
				halted[k] = m.Value
			}
		default:
			if r.Curves == nil {
				r.Curves = map[string][]Point{}
			}
			r.Curves[m.Name] = append(r.Curves[m.Name], Point{Step: m.Step, Value: m.Value})
		}
	}
	if len(halted) > 0 {
		keys := sortedKeys(halted)
		r.HaltSegments = make([]int, keys[len(keys)-1])
		for k, v := range halted {
			r.HaltSegments[k-1] = int(v)
		}
	}
	evals, err := store.Evals(ctx, r.ID)
	if err != nil {
		return err
	}
	last := -1
	for _, e := range evals {
		last = max(last, e.Step)
	}
	for _, e := range evals {
		if e.Step != last {
			continue
		}
		if r.Evals == nil {
			r.Evals = map[string]map[int]float64{}
		}
		if r.Evals[e.Name] == nil {
			r.Evals[e.Name] = map[int]float64{}
		}
		r.Evals[e.Name][e.Loops] = e.Value
	}
	return nil
}
