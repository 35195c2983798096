package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"outerloop/reports"
	"outerloop/results"
)

// Claim verdicts and figures come from the reports package, which reads a
// grid's whole history: seconds for a large grid. So they are built in the
// background, one grid at a time (the machine is training), when a viewer
// asks for a grid whose stamp moved since the last build, and the viewer
// gets the last report meanwhile, marked stale.

// Report states, as the scripts see them.
const (
	stateReady    = "ready"    // built from the grid as it is now
	stateStale    = "stale"    // built from an older state; a rebuild is due
	stateBuilding = "building" // no report yet; the first is being built
	stateError    = "error"    // the last build failed; Error says why
)

// minRebuildGap and rebuildFactor pace rebuilds of a grid that keeps
// changing: at least this long apart, and at least this many times the
// last build's duration, so a large grid costs at most a quarter of a core.
// A build that failed (a grid file moved away, say) is retried after
// errorRetry even if the grid did not change, in case its cause is gone.
const (
	minRebuildGap = time.Second
	rebuildFactor = 4
	errorRetry    = 30 * time.Second
)

// curvePoints is how many points per training curve the report's figures
// are drawn from; more would only make the SVG larger.
const curvePoints = 500

type reportCache struct {
	ctx   context.Context
	store *results.Store
	logf  func(string, ...any)
	slot  chan struct{}  // one build at a time
	wg    sync.WaitGroup // builds in flight

	mu      sync.Mutex
	entries map[string]*reportEntry
	gen     int // counts finished builds: part of the grids list's ETag
}

// reportEntry is one grid's latest report. rep and err are replaced, never
// changed, so a reader may keep them after unlocking.
type reportEntry struct {
	stamp    string // what rep was built from
	rep      *reports.Report
	err      error
	gen      int
	took     time.Duration
	started  time.Time
	building bool
	svg      map[string][]byte // rep's figures, by name
}

func newReportCache(ctx context.Context, store *results.Store, logf func(string, ...any)) *reportCache {
	return &reportCache{ctx: ctx, store: store, logf: logf, slot: make(chan struct{}, 1), entries: map[string]*reportEntry{}}
}

// snapshot is what a request sees of an entry.
type snapshot struct {
	state string
	rep   *reports.Report
	svg   map[string][]byte
	err   error
	gen   int
	took  time.Duration
}

// get returns the grid's latest report and starts a rebuild when the grid
// has changed since it was built.
func (c *reportCache) get(ctx context.Context, grid string) (snapshot, error) {
	stamp, err := c.store.Stamp(ctx, grid)
	if err != nil {
		return snapshot{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[grid]
	if e == nil {
		e = &reportEntry{}
		c.entries[grid] = e
	}
	gap := max(minRebuildGap, rebuildFactor*e.took)
	due := e.stamp != stamp || (e.err != nil && time.Since(e.started) >= errorRetry)
	if due && !e.building && time.Since(e.started) >= gap && c.ctx.Err() == nil {
		e.building, e.started = true, time.Now()
		c.wg.Add(1)
		go c.build(grid, stamp)
	}
	snap := snapshot{rep: e.rep, svg: e.svg, err: e.err, gen: e.gen, took: e.took}
	switch {
	case e.rep == nil && e.err == nil:
		snap.state = stateBuilding
	case e.stamp != stamp:
		snap.state = stateStale
	case e.err != nil:
		snap.state = stateError
	default:
		snap.state = stateReady
	}
	return snap, nil
}

// generation counts the builds finished so far.
func (c *reportCache) generation() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// build loads and builds the grid's report as of stamp.
func (c *reportCache) build(grid, stamp string) {
	defer c.wg.Done()
	select {
	case c.slot <- struct{}{}:
		defer func() { <-c.slot }()
	case <-c.ctx.Done():
		c.finish(grid, stamp, nil, nil, c.ctx.Err(), 0)
		return
	}
	start := time.Now()
	rep, svg, err := c.load(grid)
	if err != nil && c.ctx.Err() == nil {
		c.logf("report for grid %s: %v", grid, err)
	}
	c.finish(grid, stamp, rep, svg, err, time.Since(start))
}

// load builds the grid's report and renders its figures, here rather
// than per request: drawing a gonum plot changes it, so one figure must
// not be drawn by two requests at once.
func (c *reportCache) load(grid string) (*reports.Report, map[string][]byte, error) {
	data, err := reports.Load(c.ctx, c.store, grid)
	if err != nil {
		return nil, nil, err
	}
	thinCurves(&data, curvePoints)
	rep, err := reports.Build(data)
	if err != nil {
		return nil, nil, err
	}
	svg := map[string][]byte{}
	for _, f := range rep.Figures {
		b, err := drawFigure(f)
		if err != nil {
			c.logf("report for grid %s: %v", grid, err)
			continue
		}
		svg[f.Name] = b
	}
	return rep, svg, nil
}

// drawFigure renders a figure as SVG. gonum panics on a log axis with no
// positive value to show, which a grid with no finished run can give; that
// loses the figure (the page says so), not the verdicts or the server.
func drawFigure(f reports.Figure) (svg []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			svg, err = nil, fmt.Errorf("draw figure %s: panic: %v", f.Name, p)
		}
	}()
	return f.SVG()
}

func (c *reportCache) finish(grid, stamp string, rep *reports.Report, svg map[string][]byte, err error, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	e := c.entries[grid]
	e.building, e.took, e.stamp, e.gen = false, took, stamp, c.gen
	e.err = err
	if err == nil {
		e.rep, e.svg = rep, svg
	}
}

// figure returns one of the grid's figures as SVG.
func (c *reportCache) figure(grid, name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[grid]
	if e == nil || e.svg[name] == nil {
		return nil, fmt.Errorf("figure %s of grid %s: %w", name, grid, results.ErrNotFound)
	}
	return e.svg[name], nil
}

// thinCurves keeps about n points of each training curve, choosing them by
// step (the first point in each of n equal step ranges, and the last) so
// that runs logged at the same steps keep the same steps and the figures'
// means across seeds still line up. Verdicts read evaluations and the
// last point of a curve, which stays.
func thinCurves(d *reports.Data, n int) {
	maxStep := 1
	for _, r := range d.Runs {
		for _, pts := range r.Curves {
			if len(pts) > 0 {
				maxStep = max(maxStep, pts[len(pts)-1].Step)
			}
		}
	}
	width := max(1, (maxStep+n-1)/n)
	for i := range d.Runs {
		for name, pts := range d.Runs[i].Curves {
			if len(pts) <= n {
				continue
			}
			kept := append(make([]reports.Point, 0, n+2), pts[0])
			for j, p := range pts[1:] {
				if p.Step/width != kept[len(kept)-1].Step/width || j == len(pts)-2 {
					kept = append(kept, p)
				}
			}
			d.Runs[i].Curves[name] = kept
		}
	}
}
