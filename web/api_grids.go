package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"outerloop/results"
)

// gridJSON is a grid with its run counts by status.
type gridJSON struct {
	Name        string         `json:"name"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Path        string         `json:"path"`
	Planned     int64          `json:"planned"` // unix milliseconds
	Total       int            `json:"total"`
	Counts      map[string]int `json:"counts"`
	Report      *reportBrief   `json:"report,omitempty"`
}

func newGridJSON(g results.GridSummary) gridJSON {
	out := gridJSON{Name: g.Name, Title: g.Title, Description: g.Description, Path: g.Path,
		Planned: g.Planned.UnixMilli(), Total: g.Total, Counts: map[string]int{}}
	for st, n := range g.Counts {
		out.Counts[string(st)] = n
	}
	return out
}

// apiGrids lists every grid with its counts and its claims' verdicts as
// last computed. Asking for the verdicts starts their rebuild where a grid
// changed, so the ETag is taken after: a reply that still shows a stale
// report is never answered 304, and the next poll picks up the new one.
func (s *Server) apiGrids(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	grids, err := s.store.Grids(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	out := make([]gridJSON, len(grids))
	stale := 0
	for i, g := range grids {
		out[i] = newGridJSON(g)
		brief, err := s.reports.brief(ctx, g.Name)
		if err != nil {
			s.fail(w, err)
			return
		}
		out[i].Report = &brief
		if brief.State != stateReady {
			stale++
		}
	}
	stamp, err := s.store.Stamp(ctx, "")
	if err != nil {
		s.fail(w, err)
		return
	}
	if stale == 0 && notModified(w, r, stamp+"-"+strconv.Itoa(s.reports.generation())) {
		return
	}
	s.writeJSON(w, out)
}

// gridPage is one grid's runs table: every run with every config key, the
// newest value of each metric and its final evaluation.
type gridPage struct {
	Grid gridJSON `json:"grid"`
	// Keys are every dotted config key of the grid's runs, sorted; each
	// run's Config holds its values in this order.
	Keys []string `json:"keys"`
	// Varying are the keys whose values differ between runs.
	Varying []string `json:"varying"`
	// Metrics and Evals name the training metrics and evaluated metrics
	// any run recorded.
	Metrics []string  `json:"metrics"`
	Evals   []string  `json:"evals"`
	Runs    []runJSON `json:"runs"`
}

// runJSON is a run's row: where it stands and what it has recorded last.
type runJSON struct {
	ID         string   `json:"id"`
	Seed       int64    `json:"seed"`
	Status     string   `json:"status"`
	Attempts   int      `json:"attempts"`
	Crashes    int      `json:"crashes"`
	Error      string   `json:"error"`
	Wall       num      `json:"wall"` // seconds, summed over attempts
	Started    int64    `json:"started"`
	Finished   int64    `json:"finished"`
	Heartbeat  int64    `json:"heartbeat"`
	Checkpoint int      `json:"checkpoint"`
	Config     []string `json:"config"`
	// Last is each metric's newest point (step, value); Final each
	// evaluated metric at the largest loop count of the last evaluation
	// (loops, value), evaluated at training step FinalStep.
	Last      map[string]Point `json:"last"`
	Final     map[string]Point `json:"final"`
	FinalStep int              `json:"final_step"`
}

func (s *Server) apiGrid(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name, err := required(r, "name")
	if err != nil {
		s.fail(w, err)
		return
	}
	stamp, err := s.store.Stamp(ctx, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	if notModified(w, r, stamp) {
		return
	}
	page, err := s.gridPage(ctx, name)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.writeJSON(w, page)
}

func (s *Server) gridPage(ctx context.Context, name string) (gridPage, error) {
	summary, err := s.gridSummary(ctx, name)
	if err != nil {
		return gridPage{}, err
	}
	runs, err := s.store.GridRuns(ctx, name)
	if err != nil {
		return gridPage{}, err
	}
	rows, keys, err := s.runRows(ctx, runs)
	if err != nil {
		return gridPage{}, fmt.Errorf("read grid %s: %w", name, err)
	}
	page := gridPage{Grid: newGridJSON(summary), Keys: keys, Varying: []string{}, Runs: rows}
	page.Metrics, page.Evals = recorded(rows)
	for _, k := range varying(rows, len(keys)) {
		page.Varying = append(page.Varying, keys[k])
	}
	return page, nil
}

// gridSummary finds one grid's summary.
func (s *Server) gridSummary(ctx context.Context, name string) (results.GridSummary, error) {
	grids, err := s.store.Grids(ctx)
	if err != nil {
		return results.GridSummary{}, err
	}
	for _, g := range grids {
		if g.Name == name {
			return g, nil
		}
	}
	return results.GridSummary{}, fmt.Errorf("read grid %q: %w", name, errNoGrid)
}

// runRows builds the runs' rows, with their configs flattened onto the
// union of their keys.
func (s *Server) runRows(ctx context.Context, runs []results.Run) ([]runJSON, []string, error) {
	ids := make([]string, len(runs))
	flat := make([]map[string]string, len(runs))
	union := map[string]bool{}
	for i, r := range runs {
		ids[i] = r.ID
		f, err := s.flatConfig(r)
		if err != nil {
			return nil, nil, err
		}
		flat[i] = f
		for k := range f {
			union[k] = true
		}
	}
	keys := sortedKeys(union)
	last, err := s.store.LastMetricsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	final, err := s.store.FinalEvalsOf(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	rows := make([]runJSON, len(runs))
	for i, r := range runs {
		rows[i] = newRunJSON(r, flat[i], keys, last[r.ID], final[r.ID])
	}
	return rows, keys, nil
}

// flatConfig returns the run's config flattened, decoding it only the
// first time.
func (s *Server) flatConfig(r results.Run) (map[string]string, error) {
	if f, ok := s.configs.Load(r.ID); ok {
		return f.(map[string]string), nil
	}
	f, err := results.FlatConfig(r.Config)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", r.ID, err)
	}
	s.configs.Store(r.ID, f)
	return f, nil
}

func newRunJSON(r results.Run, flat map[string]string, keys []string, last []results.Metric, final []results.Eval) runJSON {
	row := runJSON{ID: r.ID, Seed: r.Seed, Status: string(r.Status), Attempts: r.Attempts, Crashes: r.Crashes,
		Error: r.Error, Wall: num(r.Wall.Seconds()), Started: msOrZero(r.Started.UnixMilli(), r.Started.IsZero()),
		Finished: msOrZero(r.Finished.UnixMilli(), r.Finished.IsZero()), Heartbeat: msOrZero(r.Heartbeat.UnixMilli(), r.Heartbeat.IsZero()),
		Checkpoint: r.CheckpointStep, Config: make([]string, len(keys)),
		Last: map[string]Point{}, Final: map[string]Point{}, FinalStep: -1}
	for j, k := range keys {
		row.Config[j] = flat[k]
	}
	for _, m := range last {
		row.Last[m.Name] = Point{X: float64(m.Step), Y: m.Value}
	}
	for _, e := range final { // ordered by loops, so the largest wins
		row.Final[e.Name] = Point{X: float64(e.Loops), Y: e.Value}
		row.FinalStep = e.Step
	}
	return row
}

func msOrZero(ms int64, zero bool) int64 {
	if zero {
		return 0
	}
	return ms
}

// varying returns the indexes of the config columns whose values differ
// between rows.
func varying(rows []runJSON, nkeys int) []int {
	var out []int
	for k := range nkeys {
		for _, row := range rows[min(1, len(rows)):] {
			if row.Config[k] != rows[0].Config[k] {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

// recorded lists the metric and evaluation names the rows hold.
func recorded(rows []runJSON) (metrics, evals []string) {
	m, e := map[string]bool{}, map[string]bool{}
	for _, row := range rows {
		for k := range row.Last {
			m[k] = true
		}
		for k := range row.Final {
			e[k] = true
		}
	}
	return sortedKeys(m), sortedKeys(e)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
