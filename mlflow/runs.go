package mlflow

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"outerloop/experiments"
	"outerloop/results"
)

// run writes one run: its row, params, tags and metrics.
func (w *writer) run(exp int, g results.GridSummary, r results.Run, config map[string]string, label string) error {
	uuid := runUUID(g.Name, r.ID)
	name := strings.TrimSpace(experiments.ShortID(r.ID) + " " + label)
	start, end := ms(r.Started.UnixMilli(), r.Started.IsZero()), ms(r.Finished.UnixMilli(), r.Finished.IsZero())
	var prov *results.Provenance
	if r.Provenance != "" {
		p, err := w.store.Provenance(w.ctx, r.Provenance)
		if err != nil {
			return err
		}
		prov = &p
	}
	commit := ""
	if prov != nil {
		commit = prov.GitCommit
	}
	err := w.exec(`INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status,
		start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id)
		VALUES (?, ?, 'LOCAL', ?, '', 'outerloop', ?, ?, ?, ?, 'active', ?, ?)`,
		uuid, name, g.Path, mlflowStatus[r.Status], start, end, commit, fileURI(filepath.Join(w.runsDir, r.ID)), exp)
	if err != nil {
		return err
	}
	w.sum.Runs++
	if err := w.params(uuid, config); err != nil {
		return err
	}
	if err := w.tags(uuid, g, r, name, prov); err != nil {
		return err
	}
	return w.metrics(uuid, r, start)
}

// ms is a unix-millisecond time, or NULL for none.
func ms(v int64, zero bool) any {
	if zero {
		return nil
	}
	return v
}

func (w *writer) params(uuid string, config map[string]string) error {
	for k, v := range config {
		if err := w.exec(`INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)`, k, v, uuid); err != nil {
			return fmt.Errorf("write param %s: %w", k, err)
		}
		w.sum.Params++
	}
	return nil
}

// tags writes the run's status, seed, grid and commit, MLflow's own tags
// (run name, user, source, commit) and what else the harness knows.
func (w *writer) tags(uuid string, g results.GridSummary, r results.Run, name string, prov *results.Provenance) error {
	tags := map[string]string{
		"status": string(r.Status), "seed": strconv.FormatInt(r.Seed, 10), "grid": g.Name,
		"mlflow.runName": name, "mlflow.user": "outerloop", "mlflow.source.type": "LOCAL", "mlflow.source.name": g.Path,
		"outerloop.run_id": r.ID, "outerloop.attempts": strconv.Itoa(r.Attempts), "outerloop.crashes": strconv.Itoa(r.Crashes),
		"outerloop.checkpoint_step": strconv.Itoa(r.CheckpointStep), "outerloop.wall_seconds": strconv.FormatFloat(r.Wall.Seconds(), 'g', -1, 64),
	}
	if r.Error != "" {
		tags["outerloop.error"] = r.Error
	}
	if prov != nil {
		tags["commit"], tags["mlflow.source.git.commit"] = prov.GitCommit, prov.GitCommit
		tags["outerloop.git_dirty"] = strconv.FormatBool(prov.GitDirty)
		tags["outerloop.host"], tags["outerloop.libtorch"] = prov.Host, prov.LibtorchVersion
	}
	for k, v := range tags {
		if err := w.exec(`INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)`, k, v, uuid); err != nil {
			return fmt.Errorf("write tag %s: %w", k, err)
		}
	}
	return nil
}

// point is one metric row as MLflow stores it.
type point struct {
	key   string
	step  int
	value float64
}

// metrics writes the run's training metrics by step, its evaluations as
// eval/NAME/loops_L by training step, and its last evaluation as
// inference_loops/NAME by loop count (MLflow then draws the inference-loop
// curve), keeping latest_metrics as MLflow does.
func (w *writer) metrics(uuid string, r results.Run, start any) error {
	stamp := w.now
	if t, ok := start.(int64); ok {
		stamp = t // the harness keeps no time per point; the run's start stands for it
	}
	ms, err := w.store.Metrics(w.ctx, r.ID)
	if err != nil {
		return err
	}
	evals, err := w.store.Evals(w.ctx, r.ID)
	if err != nil {
		return err
	}
	pts := make([]point, 0, len(ms)+2*len(evals))
	for _, m := range ms {
		pts = append(pts, point{m.Name, m.Step, m.Value})
	}
	last := -1
	for _, e := range evals {
		pts = append(pts, point{fmt.Sprintf("eval/%s/loops_%d", e.Name, e.Loops), e.Step, e.Value})
		last = max(last, e.Step)
	}
	for _, e := range evals {
		if e.Step == last {
			pts = append(pts, point{"inference_loops/" + e.Name, e.Loops, e.Value})
		}
	}
	return w.points(uuid, pts, stamp)
}

// maxFloat is what MLflow stores for ±Inf, which SQL cannot hold.
const maxFloat = math.MaxFloat64

// stored maps a value to MLflow's (value, is_nan) columns.
func stored(v float64) (float64, bool) {
	switch {
	case math.IsNaN(v):
		return 0, true
	case math.IsInf(v, 1):
		return maxFloat, false
	case math.IsInf(v, -1):
		return -maxFloat, false
	}
	return v, false
}

// points writes metric rows and each key's latest row: the largest step,
// then the largest value (MLflow's rule; the timestamps are equal).
func (w *writer) points(uuid string, pts []point, stamp int64) error {
	latest := map[string]point{}
	for _, p := range pts {
		v, nan := stored(p.value)
		if _, err := w.insertMetric.ExecContext(w.ctx, p.key, v, stamp, uuid, p.step, nan); err != nil {
			return fmt.Errorf("write metric %s: %w", p.key, err)
		}
		w.sum.Points++
		if l, ok := latest[p.key]; !ok || p.step > l.step || (p.step == l.step && v > l.value) {
			latest[p.key] = point{p.key, p.step, p.value}
		}
	}
	keys := make([]string, 0, len(latest))
	for k := range latest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := latest[k]
		v, nan := stored(p.value)
		err := w.exec(`INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)`,
			k, v, stamp, p.step, nan, uuid)
		if err != nil {
			return fmt.Errorf("write latest %s: %w", k, err)
		}
	}
	return nil
}
