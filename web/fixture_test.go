package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"outerloop/experiments"
	"outerloop/harness"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

// mustGrid writes the test grid "web" (harnesstest.WriteClaimGrid) into
// dir and loads it.
func mustGrid(tb testing.TB, dir string, steps int) (*experiments.Grid, []experiments.RunSpec) {
	tb.Helper()
	path := harnesstest.WriteClaimGrid(tb, dir, "web", "Web UI test grid", steps)
	g, err := experiments.Load(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	runs, err := g.Expand()
	if err != nil {
		tb.Fatal(err)
	}
	return g, runs
}

// mustTrain trains the grid into the database at db with the test
// trainer, as harness run would; seeds in fail fail halfway.
func mustTrain(tb testing.TB, db string, g *experiments.Grid, runs []experiments.RunSpec, tr *harnesstest.Trainer) {
	tb.Helper()
	store, err := results.Open(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	dir := filepath.Dir(db)
	sched := &harness.Scheduler{Store: store, Trainer: tr, Jobs: 2, RunsDir: filepath.Join(dir, "runs"),
		CacheDir: filepath.Join(dir, "cache"), LeaseTimeout: time.Minute}
	if _, err := sched.Run(context.Background(), g, runs); err != nil && !errors.Is(err, harness.ErrRunsFailed) {
		tb.Fatalf("train grid: %v", err)
	}
}

// mustTrainedDB returns a database holding the test grid, trained, with
// seed 2 failing halfway.
func mustTrainedDB(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	db := filepath.Join(dir, "results.db")
	g, runs := mustGrid(tb, dir, 30)
	mustTrain(tb, db, g, runs, &harnesstest.Trainer{Fail: map[int64]bool{2: true}})
	return db
}

// mustServe serves the database at db read-only on a test server.
func mustServe(tb testing.TB, db string) (*httptest.Server, *results.Store) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store, err := results.OpenReadOnly(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := New(ctx, Config{Store: store, Logf: tb.Logf})
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	tb.Cleanup(func() {
		ts.Close()
		srv.Close()
		cancel()
		store.Close()
	})
	return ts, store
}

// get fetches path and returns the response, its body read.
func get(tb testing.TB, ts *httptest.Server, path string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest("GET", ts.URL+path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return res, body
}
