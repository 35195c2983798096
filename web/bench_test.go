package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/chromium"
	"outerloop/experiments"
	"outerloop/results"
)

// scaleGrid expands to 1,000 runs: 5 training-loop counts × 4 cores × 5
// widths × 10 seeds.
const scaleGrid = `
name = "scale"
title = "1,000 runs of 10,000 points"
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
[task]
name = "sudoku"
size = 4
[train]
steps = 10000
[eval]
loops = 8
[sweep]
"train.loops" = [1, 2, 4, 8, 16]
"model.core" = ["hrm", "trm", "ut", "transformer"]
"model.hidden" = [32, 64, 96, 128, 160]
[[expect]]
metric = "exact_accuracy"
increases_with = "train.loops"
`

// scalePoints is each run's loss curve length.
const scalePoints = 10000

// mustScaleDB writes the 1,000-run grid, every run done with a loss curve
// of 10,000 points and an evaluation after each of 8 inference loops: 10
// million metric rows (about a minute on 2 cores).
func mustScaleDB(b *testing.B, dir string) (db string, ids []string) {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(dir, "scale.toml")
	if err := os.WriteFile(path, []byte(scaleGrid), 0o644); err != nil {
		b.Fatal(err)
	}
	g, err := experiments.Load(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	specs, err := g.Expand()
	if err != nil {
		b.Fatal(err)
	}
	db = filepath.Join(dir, "results.db")
	store, err := results.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	runs := make([]results.NewRun, len(specs))
	for i, s := range specs {
		cfg, err := s.CanonicalJSON()
		if err != nil {
			b.Fatal(err)
		}
		runs[i] = results.NewRun{ID: s.ID, Seed: s.Seed, Config: cfg}
		ids = append(ids, s.ID)
	}
	if err := store.Plan(ctx, results.Grid{Name: g.Name, Title: g.Title, Path: g.Path}, runs); err != nil {
		b.Fatal(err)
	}
	for i, s := range specs {
		mustScaleRun(b, store, s, i)
	}
	return db, ids
}

// mustScaleRun trains one run of the scale grid, as far as the database
// can tell.
func mustScaleRun(b *testing.B, store *results.Store, s experiments.RunSpec, i int) {
	ctx := context.Background()
	lease, err := store.Claim(ctx, "bench", []string{s.ID}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	batch := results.Batch{Checkpoint: scalePoints}
	for step := 1; step <= scalePoints; step++ {
		v := math.Exp(-float64(step)/2000) + 0.01*math.Sin(float64(step*(i+1)))
		batch.Metrics = append(batch.Metrics, results.Metric{Step: step, Name: "loss", Value: v})
	}
	for loops := 1; loops <= 8; loops++ {
		acc := 1 - 1/float64(loops+s.Train.Loops) - 0.001*float64(s.Seed)
		batch.Evals = append(batch.Evals, results.Eval{Step: scalePoints, Loops: loops, Name: "exact_accuracy", Value: acc})
	}
	if err := lease.Write(ctx, batch); err != nil {
		b.Fatal(err)
	}
	if err := lease.Finish(ctx, results.Outcome{Status: results.Done, Wall: time.Minute}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkServeAtScale measures the server on a grid of 1,000 runs × 10,000
// points: first the background build of the claims and figures (until
// /api/report says ready), then, with that done, the grid page's data (the
// whole runs table), one curve and ten overlaid (downsampled to 1,000
// points each), an unchanged poll (304), and the grid page in Chromium
// until its table is drawn. `just bench` runs it. OUTERLOOP_BENCH_DIR keeps
// the fixture database there and reuses it on the next run.
func BenchmarkServeAtScale(b *testing.B) {
	db, ids := scaleFixture(b)
	ts, _ := mustServe(b, db)
	start := time.Now()
	waitReport(b, ts)
	b.Logf("claims and figures rebuilt in the background in %s", time.Since(start).Round(time.Millisecond))
	ten := ""
	for _, id := range ids[:10] {
		ten += "&run=" + id
	}
	gets := []struct{ name, path, etag string }{
		{"grid-page-data", "/api/grid?name=scale", ""},
		{"grids-list", "/api/grids", ""},
		{"curve", "/api/curves?metric=loss&points=1000&run=" + ids[500], ""},
		{"ten-curves", "/api/curves?metric=loss&points=1000" + ten, ""},
		{"unchanged-poll", "/api/grid?name=scale", "etag"},
	}
	for _, g := range gets {
		b.Run(g.name, func(b *testing.B) { benchGet(b, ts, g.path, g.etag != "") })
	}
	b.Run("grid-page-browser", func(b *testing.B) { benchBrowser(b, ts) })
}

// scaleFixture builds the scale database in a temporary folder, or in
// OUTERLOOP_BENCH_DIR, where it is kept and reused.
func scaleFixture(b *testing.B) (string, []string) {
	dir := os.Getenv("OUTERLOOP_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	done := filepath.Join(dir, "scale.ids")
	if raw, err := os.ReadFile(done); err == nil {
		var ids []string
		if err := json.Unmarshal(raw, &ids); err == nil && len(ids) == 1000 {
			return filepath.Join(dir, "results.db"), ids
		}
	}
	for _, f := range []string{"results.db", "results.db-wal", "results.db-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	start := time.Now()
	db, ids := mustScaleDB(b, dir)
	b.Logf("fixture: 1,000 runs × %d points written in %s", scalePoints, time.Since(start).Round(time.Second))
	raw, _ := json.Marshal(ids)
	if err := os.WriteFile(done, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	return db, ids
}

// waitReport asks for the scale grid's report until it is built.
func waitReport(b *testing.B, ts *httptest.Server) {
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, body := get(b, ts, "/api/report?grid=scale")
		var rep reportJSON
		if err := json.Unmarshal(body, &rep); err != nil {
			b.Fatal(err)
		}
		if rep.State == stateReady && len(rep.Verdicts) == 1 {
			return
		}
		if rep.State == stateError {
			b.Fatal(rep.Error)
		}
	}
	b.Fatal("the report was not built in 10 minutes")
}

func benchGet(b *testing.B, ts *httptest.Server, path string, conditional bool) {
	res, body := get(b, ts, path)
	etag := res.Header.Get("ETag")
	var headers []string
	if conditional {
		headers = []string{"If-None-Match", etag}
	}
	b.ResetTimer()
	for b.Loop() {
		res, _ := get(b, ts, path, headers...)
		if want := map[bool]int{false: http.StatusOK, true: http.StatusNotModified}[conditional]; res.StatusCode != want {
			b.Fatalf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/op")
	b.ReportMetric(float64(len(body))/1024, "KiB")
	var s []series
	if strings.HasPrefix(path, "/api/curves") && json.Unmarshal(body, &s) == nil && len(s) > 0 {
		b.ReportMetric(float64(len(s[0].Points)), "points/curve")
	}
}

// benchBrowser times the grid page in Chromium from navigation until its
// runs table is drawn: all 1,000 runs counted, the first hundred rows laid
// out (the rest are drawn as the table is scrolled).
func benchBrowser(b *testing.B, ts *httptest.Server) {
	if chromium.Find() == "" {
		b.Skip("chromium not found")
	}
	ctx := context.Background()
	br := chromium.MustStart(b, ctx)
	ready := `JSON.stringify(document.getElementById("runs-count").dataset.shown === "1000" &&
		document.querySelectorAll("#runs-table tbody tr").length > 100)`
	b.ResetTimer()
	for b.Loop() {
		if _, err := br.Load(ctx, ts.URL+"/grid?name=scale"); err != nil {
			b.Fatal(err)
		}
		if err := br.WaitFor(ctx, ready, 30*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
}
