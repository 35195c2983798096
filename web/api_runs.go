package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"outerloop/results"
)

// runPage is everything about one run.
type runPage struct {
	Run        runJSON             `json:"run"`
	LeaseOwner string              `json:"lease_owner"`
	Keys       []string            `json:"keys"`
	RawConfig  json.RawMessage     `json:"raw_config"`
	Grids      []string            `json:"grids"`
	Provenance *results.Provenance `json:"provenance"`
	Evals      []evalJSON          `json:"evals"`
	Artifacts  []artifactJSON      `json:"artifacts"`
}

type evalJSON struct {
	Step  int    `json:"step"`
	Loops int    `json:"loops"`
	Name  string `json:"name"`
	Value num    `json:"value"`
}

type artifactJSON struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	SHA256  string `json:"sha256"`
	Bytes   int64  `json:"bytes"`
	Created int64  `json:"created"`
}

// runStamp fingerprints a run as read: every write through its lease
// renews the heartbeat.
func runStamp(r results.Run) string {
	return fmt.Sprintf("%s.%d.%d.%d.%d.%d", r.Status, r.Heartbeat.UnixMilli(), r.Finished.UnixMilli(),
		r.Attempts, r.Crashes, r.CheckpointStep)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := required(r, "id")
	if err != nil {
		s.fail(w, err)
		return
	}
	run, err := s.store.FindRun(ctx, id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if notModified(w, r, runStamp(run)) {
		return
	}
	page, err := s.runPage(ctx, run)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeJSON(w, page)
}

func (s *Server) runPage(ctx context.Context, run results.Run) (runPage, error) {
	rows, keys, err := s.runRows(ctx, []results.Run{run})
	if err != nil {
		return runPage{}, fmt.Errorf("read run %s: %w", run.ID, err)
	}
	page := runPage{Run: rows[0], LeaseOwner: run.LeaseOwner, Keys: keys, RawConfig: run.Config}
	grids, err := s.store.RunGrids(ctx, run.ID)
	if err != nil {
		return runPage{}, err
	}
	page.Grids = append([]string{}, grids...) // [] rather than null for the scripts
	if run.Provenance != "" {
		p, err := s.store.Provenance(ctx, run.Provenance)
		if err != nil {
			return runPage{}, err
		}
		page.Provenance = &p
	}
	if page.Evals, err = s.evals(ctx, run.ID); err != nil {
		return runPage{}, err
	}
	arts, err := s.store.Artifacts(ctx, run.ID)
	if err != nil {
		return runPage{}, err
	}
	page.Artifacts = []artifactJSON{}
	for _, a := range arts {
		page.Artifacts = append(page.Artifacts, artifactJSON{Kind: a.Kind, Path: a.Path, SHA256: a.SHA256,
			Bytes: a.Bytes, Created: a.Created.UnixMilli()})
	}
	return page, nil
}

func (s *Server) evals(ctx context.Context, id string) ([]evalJSON, error) {
	evals, err := s.store.Evals(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]evalJSON, len(evals))
	for i, e := range evals {
		out[i] = evalJSON{Step: e.Step, Loops: e.Loops, Name: e.Name, Value: num(e.Value)}
	}
	return out, nil
}

// maxRuns bounds how many runs one request may name: curves for a hundred
// runs of 10,000 points are a tenth of a second of reading.
const maxRuns = 100

// findRuns resolves run ids (or unique prefixes); the ones that are not in
// the database, or are ambiguous, come back in missing, not as an error.
func (s *Server) findRuns(ctx context.Context, ids []string) (runs []results.Run, missing []string, err error) {
	if len(ids) == 0 {
		return nil, nil, badRequest("missing parameter \"run\"")
	}
	if len(ids) > maxRuns {
		return nil, nil, badRequest(fmt.Sprintf("%d runs asked for; at most %d at once", len(ids), maxRuns))
	}
	for _, id := range ids {
		run, err := s.store.FindRun(ctx, id)
		switch {
		case errors.Is(err, results.ErrNotFound), errors.Is(err, results.ErrAmbiguous):
			missing = append(missing, id)
		case err != nil:
			return nil, nil, err
		default:
			runs = append(runs, run)
		}
	}
	return runs, missing, nil
}

// conditionalRuns resolves the request's runs (run=…, repeatable) and
// answers 304 when the client already has them as they are; extra are the
// request's other parameters, part of the ETag. ok is false when the
// request has been answered.
func (s *Server) conditionalRuns(w http.ResponseWriter, r *http.Request, extra ...string) (runs []results.Run, missing []string, ok bool) {
	runs, missing, err := s.findRuns(r.Context(), r.URL.Query()["run"])
	if err != nil {
		s.fail(w, err)
		return nil, nil, false
	}
	if notModified(w, r, runsStamp(runs, append(extra, missing...)...)) {
		return nil, nil, false
	}
	return runs, missing, true
}

// runsStamp fingerprints a set of runs and the request's own parameters.
func runsStamp(runs []results.Run, extra ...string) string {
	parts := append([]string{}, extra...)
	for _, r := range runs {
		parts = append(parts, r.ID[:min(12, len(r.ID))]+"."+runStamp(r))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:16])
}

// comparison is several runs side by side.
type comparison struct {
	Keys    []string      `json:"keys"`
	Differ  []string      `json:"differ"`
	Metrics []string      `json:"metrics"`
	Evals   []string      `json:"evals"`
	Runs    []comparedRun `json:"runs"`
	Missing []string      `json:"missing"`
}

type comparedRun struct {
	runJSON
	Grids []string `json:"grids"`
}

// apiRuns answers several runs side by side (run=…, repeatable): their
// configs on the union of their keys, which keys differ, and what each
// recorded last.
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	runs, missing, ok := s.conditionalRuns(w, r)
	if !ok {
		return
	}
	rows, keys, err := s.runRows(ctx, runs)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := comparison{Keys: keys, Differ: []string{}, Runs: []comparedRun{}, Missing: append([]string{}, missing...)}
	out.Metrics, out.Evals = recorded(rows)
	for _, k := range varying(rows, len(keys)) {
		out.Differ = append(out.Differ, keys[k])
	}
	for i, row := range rows {
		grids, err := s.store.RunGrids(ctx, runs[i].ID)
		if err != nil {
			s.fail(w, err)
			return
		}
		out.Runs = append(out.Runs, comparedRun{runJSON: row, Grids: append([]string{}, grids...)})
	}
	s.writeJSON(w, out)
}

// series is one metric of one run, downsampled.
type series struct {
	Run    string  `json:"run"`
	Metric string  `json:"metric"`
	Status string  `json:"status"`
	Total  int     `json:"total"` // points stored; Points holds at most the requested number
	Points []Point `json:"points"`
}

// readers is how many curves one request reads at once, as many as a
// read-only store has connections.
const readers = 4

// Curve sizes: the default suits a chart a thousand pixels wide.
const (
	defaultPoints = 1000
	maxPoints     = 5000
	maxSeries     = 200
)

// apiCurves answers metric curves (run=…&metric=…, each repeatable) for
// every pair of run and metric, each downsampled to points=N.
func (s *Server) apiCurves(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	metrics := q["metric"]
	points, err := pointsParam(q.Get("points"))
	switch n := len(q["run"]) * len(metrics); {
	case err != nil:
	case len(metrics) == 0:
		err = badRequest("missing parameter \"metric\"")
	case n > maxSeries:
		err = badRequest(fmt.Sprintf("%d curves asked for; at most %d at once", n, maxSeries))
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	runs, _, ok := s.conditionalRuns(w, r, append([]string{strconv.Itoa(points)}, metrics...)...)
	if !ok {
		return
	}
	out, err := s.curves(r.Context(), runs, metrics, points)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeJSON(w, out)
}

// curves reads and downsamples every pair of run and metric, a few at a
// time: each is one index range read, and overlaying many runs should
// cost about as long as the slowest few, not all of them in turn.
func (s *Server) curves(ctx context.Context, runs []results.Run, metrics []string, points int) ([]series, error) {
	out := make([]series, len(runs)*len(metrics))
	errs := make([]error, len(out))
	slots := make(chan struct{}, readers)
	var wg sync.WaitGroup
	for i := range out {
		run, m := runs[i/len(metrics)], metrics[i%len(metrics)]
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			rows, err := s.store.MetricSeries(ctx, run.ID, m)
			pts := make([]Point, len(rows))
			for j, row := range rows {
				pts[j] = Point{X: float64(row.Step), Y: row.Value}
			}
			out[i], errs[i] = series{Run: run.ID, Metric: m, Status: string(run.Status), Total: len(pts),
				Points: Downsample(pts, points)}, err
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

func pointsParam(v string) (int, error) {
	if v == "" {
		return defaultPoints, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 4 || n > maxPoints {
		return 0, badRequest(fmt.Sprintf("points=%q: want a whole number from 4 to %d", v, maxPoints))
	}
	return n, nil
}

// runEvals is one run's evaluations, every step.
type runEvals struct {
	Run    string     `json:"run"`
	Status string     `json:"status"`
	Evals  []evalJSON `json:"evals"`
}

// apiEvals answers the evaluations of runs (run=…, repeatable): their
// inference-loop curves at every evaluated step.
func (s *Server) apiEvals(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	runs, _, ok := s.conditionalRuns(w, r)
	if !ok {
		return
	}
	out := []runEvals{}
	for _, run := range runs {
		evals, err := s.evals(ctx, run.ID)
		if err != nil {
			s.fail(w, err)
			return
		}
		out = append(out, runEvals{Run: run.ID, Status: string(run.Status), Evals: evals})
	}
	s.writeJSON(w, out)
}
