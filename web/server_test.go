package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	ts, _ := mustServe(t, mustTrainedDB(t))
	for _, path := range []string{"/", "/grid?name=web", "/run?id=ab", "/compare", "/static/common.js", "/static/app.css",
		"/api/grids", "/api/grid?name=nope", "/nope"} {
		res, _ := get(t, ts, path)
		h := res.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
			t.Fatalf("GET %s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" {
			t.Fatalf("GET %s: headers %v, want nosniff and DENY", path, h)
		}
	}
}

func TestRequestsThatAreRefused(t *testing.T) {
	db := mustTrainedDB(t)
	ts, _ := mustServe(t, db)
	hundred := strings.Repeat("run=ab&", 101)
	tests := []struct {
		method, path string
		want         int
		body         string
	}{
		{"POST", "/api/grids", http.StatusMethodNotAllowed, ""},
		{"GET", "/api/grid", http.StatusBadRequest, `missing parameter \"name\"`},
		{"GET", "/api/grid?name=nope", http.StatusNotFound, "no such grid"},
		{"GET", "/api/run?id=ffff", http.StatusNotFound, "not found"},
		{"GET", "/api/run?id=<x>", http.StatusNotFound, "hexadecimal"},
		{"GET", "/api/curves?run=ab", http.StatusBadRequest, `missing parameter \"metric\"`},
		{"GET", "/api/curves?run=ab&metric=loss&points=2", http.StatusBadRequest, "points"},
		{"GET", "/api/curves?" + hundred + "metric=loss", http.StatusBadRequest, "at most 100"},
		{"GET", "/api/figure?grid=nope&name=x", http.StatusNotFound, ""},
		{"GET", "/static/nope.js", http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.want || !strings.Contains(string(body), tc.body) {
			t.Fatalf("%s %s: %d %s, want %d and %q", tc.method, tc.path, res.StatusCode, body, tc.want, tc.body)
		}
	}
}

// TestOnlyConfiguredHosts: a page elsewhere that rebinds its DNS name to
// 127.0.0.1 sends its own Host header, and gets nothing.
func TestOnlyConfiguredHosts(t *testing.T) {
	store, err := results.OpenReadOnly(context.Background(), mustTrainedDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv, err := New(context.Background(), Config{Store: store, Hosts: []string{"127.0.0.1:8080", "localhost:8080"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "LOCALHOST:8080": 200, "evil.example:8080": 403, "127.0.0.1:9999": 403} {
		req := httptest.NewRequest("GET", "/api/grids", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestGridAPI(t *testing.T) {
	ts, _ := mustServe(t, mustTrainedDB(t))
	_, body := get(t, ts, "/api/grid?name=web")
	var page gridPage
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Runs) != 6 || page.Grid.Counts["done"] != 4 || page.Grid.Counts["failed"] != 2 {
		t.Fatalf("grid %+v with %d runs, want 6: 4 done, 2 failed", page.Grid, len(page.Runs))
	}
	if strings.Join(page.Varying, ",") != "seed,train.loops" || strings.Join(page.Metrics, ",") != "loss,threads" ||
		strings.Join(page.Evals, ",") != "exact_accuracy" {
		t.Fatalf("varying %v, metrics %v, evals %v", page.Varying, page.Metrics, page.Evals)
	}
	loops := indexOf(page.Keys, "train.loops")
	for _, r := range page.Runs {
		if r.Config[loops] != "1" && r.Config[loops] != "2" {
			t.Fatalf("run %s: train.loops %q", r.ID, r.Config[loops])
		}
		switch r.Status {
		case "done":
			if r.Last["loss"].X != 30 || r.Final["exact_accuracy"].X != 4 || r.FinalStep != 30 {
				t.Fatalf("done run %s: last loss %v, final %v at step %d; want step 30, 4 loops", r.ID, r.Last["loss"], r.Final, r.FinalStep)
			}
		case "failed":
			if !strings.Contains(r.Error, "injected failure") || len(r.Final) != 0 {
				t.Fatalf("failed run %s: error %q, final %v", r.ID, r.Error, r.Final)
			}
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// TestETagAnswers304UntilTheGridChanges: a poll of an unchanged grid is
// a 304; a write to the grid's runs changes the answer.
func TestETagAnswers304UntilTheGridChanges(t *testing.T) {
	db := mustTrainedDB(t)
	ts, _ := mustServe(t, db)
	waitVerdict(t, ts, "inconclusive") // the grids list's ETag waits for the verdicts
	for _, path := range []string{"/api/grid?name=web", "/api/grids"} {
		res, _ := get(t, ts, path)
		etag := res.Header.Get("ETag")
		if res, _ = get(t, ts, path, "If-None-Match", etag); etag == "" || res.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s with its ETag %q: %d, want 304", path, etag, res.StatusCode)
		}
	}
	res, _ := get(t, ts, "/api/grid?name=web")
	etag := res.Header.Get("ETag")
	store, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Requeue(context.Background(), []string{mustRunID(t, store, "failed")}, results.Failed); err != nil {
		t.Fatal(err)
	}
	if res, _ := get(t, ts, "/api/grid?name=web", "If-None-Match", etag); res.StatusCode != http.StatusOK {
		t.Fatalf("after a run was requeued: %d, want 200", res.StatusCode)
	}
}

func mustRunID(t *testing.T, store *results.Store, status results.Status) string {
	t.Helper()
	runs, err := store.GridRuns(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == status {
			return r.ID
		}
	}
	t.Fatalf("no %s run", status)
	return ""
}

// TestReportFollowsTheRuns: the claim is inconclusive while the grid is
// only planned and reproduced once its runs are done, without restarting
// the server.
func TestReportFollowsTheRuns(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "results.db")
	g, runs := mustGrid(t, dir, 25)
	mustPlan(t, db, g, runs)
	ts, _ := mustServe(t, db)
	waitVerdict(t, ts, "inconclusive")
	mustTrain(t, db, g, runs, &harnesstest.Trainer{})
	waitVerdict(t, ts, "reproduced")
}

func mustPlan(t *testing.T, db string, g *experiments.Grid, specs []experiments.RunSpec) {
	t.Helper()
	store, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	runs := make([]results.NewRun, len(specs))
	for i, s := range specs {
		cfg, err := s.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		runs[i] = results.NewRun{ID: s.ID, Seed: s.Seed, Config: cfg}
	}
	if err := store.Plan(context.Background(), results.Grid{Name: g.Name, Title: g.Title, Path: g.Path}, runs); err != nil {
		t.Fatal(err)
	}
}

func waitVerdict(t *testing.T, ts *httptest.Server, want string) {
	t.Helper()
	var rep reportJSON
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, body := get(t, ts, "/api/report?grid=web")
		rep = reportJSON{}
		if err := json.Unmarshal(body, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.State == stateReady && len(rep.Verdicts) == 1 && rep.Verdicts[0].Outcome == want {
			return
		}
	}
	t.Fatalf("report %+v, want one %s verdict", rep, want)
}

// TestCurvesAreDownsampled: a curve of 10,000 points comes back with at
// most the points asked for, and says how many there are.
func TestCurvesAreDownsampled(t *testing.T) {
	db, id := mustLongRun(t, 10000)
	ts, _ := mustServe(t, db)
	_, body := get(t, ts, "/api/curves?run="+id[:8]+"&metric=loss&points=500")
	var got []series
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if len(got) != 1 || got[0].Total != 10000 || len(got[0].Points) > 500 || len(got[0].Points) < 250 {
		t.Fatalf("got %d series, total %d, %d points; want 1 of 10000 points sent as ≤ 500", len(got), got[0].Total, len(got[0].Points))
	}
}

// mustLongRun writes one running run with n points of "loss".
func mustLongRun(t *testing.T, n int) (db, id string) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "results.db")
	store, err := results.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	id = strings.Repeat("c", 64)
	run := results.NewRun{ID: id, Seed: 1, Config: []byte(`{"seed":1}`)}
	if err := store.Plan(ctx, results.Grid{Name: "long"}, []results.NewRun{run}); err != nil {
		t.Fatal(err)
	}
	lease, err := store.Claim(ctx, "test", []string{id}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b := results.Batch{Checkpoint: results.NoCheckpoint}
	for step := 1; step <= n; step++ {
		b.Metrics = append(b.Metrics, results.Metric{Step: step, Name: "loss", Value: 1 / float64(step)})
	}
	if err := lease.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	return db, id
}
