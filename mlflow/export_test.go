package mlflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"outerloop/harness"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

// mustResults trains the test trainer's grid with one seed failing and one
// logging a NaN loss, and plans a second grid sharing two of its runs.
func mustResults(t *testing.T) *results.Store {
	t.Helper()
	ctx := context.Background()
	store := harnesstest.MustOpenStore(t)
	g, runs := harnesstest.MustLoadGrid(t, "[1, 2, 3]", 20)
	dir := t.TempDir()
	sched := &harness.Scheduler{Store: store, Jobs: 2, RunsDir: filepath.Join(dir, "runs"), CacheDir: filepath.Join(dir, "cache"),
		Trainer: &harnesstest.Trainer{Fail: map[int64]bool{2: true}, NaN: map[int64]bool{3: true}}}
	if _, err := sched.Run(ctx, g, runs); !errors.Is(err, harness.ErrRunsFailed) {
		t.Fatalf("train: %v, want some runs failed", err)
	}
	var shared []results.NewRun
	for _, r := range runs[:2] {
		cfg, err := r.CanonicalJSON()
		if err != nil {
			t.Fatal(err)
		}
		shared = append(shared, results.NewRun{ID: r.ID, Seed: r.Seed, Config: cfg})
	}
	if err := store.Plan(ctx, results.Grid{Name: "second", Title: "A grid \"quoted\" <b>", Description: "two shared runs"}, shared); err != nil {
		t.Fatal(err)
	}
	return store
}

// TestExportShape checks the store without MLflow: one experiment per grid
// plus Default, a run per grid run, every param and point.
func TestExportShape(t *testing.T) {
	ctx := context.Background()
	store := mustResults(t)
	sum, err := Export(ctx, store, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Experiments != 2 || sum.Runs != 8 || sum.Params == 0 || sum.Points == 0 || !strings.HasPrefix(sum.TrackingURI, "sqlite:///") {
		t.Fatalf("summary %+v, want 2 grids (6 + 2 runs)", sum)
	}
	if _, err := Export(ctx, store, t.TempDir(), "nope"); err == nil || !strings.Contains(err.Error(), `no grid "nope"`) {
		t.Fatalf("export of a missing grid: %v", err)
	}
}

// TestMLflowReadsTheExport installs MLflow from PyPI into a virtual
// environment (kept in the user cache) and reads the export back with
// MLflow's client: every run, param and metric point must come back.
func TestMLflowReadsTheExport(t *testing.T) {
	if os.Getenv("OUTERLOOP_MLFLOW_TEST") == "" {
		t.Skip("installs MLflow " + Version + " from PyPI (about a minute the first time): set OUTERLOOP_MLFLOW_TEST=1 (.ci/run does)")
	}
	python := mustMLflow(t)
	ctx := context.Background()
	store := mustResults(t)
	sum, err := Export(ctx, store, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "roundtrip.py"), sum.TrackingURI)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("MLflow could not read the export: %v\n%s", err, stderr.String())
	}
	var got readBack
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode MLflow's answer: %v\n%.500s", err, out)
	}
	t.Logf("MLflow %s read %s", got.Version, sum.Path)
	for _, grid := range []string{"fake", "second"} {
		compareGrid(t, store, grid, got.Experiments[grid])
	}
}

// readBack is what testdata/roundtrip.py prints.
type readBack struct {
	Version     string
	Experiments map[string]struct {
		Runs      []readRun
		FrameRows int `json:"frame_rows"`
	}
}

type readRun struct {
	RunID        string `json:"run_id"`
	Name, Status string
	Tags, Params map[string]string
	Metrics      map[string][][2]any
}

// compareGrid checks that MLflow holds exactly the grid's runs, with
// their params, tags and every metric point.
func compareGrid(t *testing.T, store *results.Store, grid string, exp struct {
	Runs      []readRun
	FrameRows int `json:"frame_rows"`
}) {
	t.Helper()
	ctx := context.Background()
	runs, err := store.GridRuns(ctx, grid)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Runs) != len(runs) || exp.FrameRows != len(runs) {
		t.Fatalf("grid %s: MLflow has %d runs (search_runs frame %d), want %d", grid, len(exp.Runs), exp.FrameRows, len(runs))
	}
	byID := map[string]readRun{}
	for _, r := range exp.Runs {
		byID[r.Tags["outerloop.run_id"]] = r
	}
	for _, r := range runs {
		got, ok := byID[r.ID]
		if !ok {
			t.Fatalf("grid %s: run %s is not in MLflow", grid, r.ID)
		}
		want, err := results.FlatConfig(r.Config)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Params) != fmt.Sprint(want) {
			t.Fatalf("run %s params:\n%v\nwant\n%v", r.ID[:8], got.Params, want)
		}
		if got.Tags["status"] != string(r.Status) || got.Tags["seed"] != strconv.FormatInt(r.Seed, 10) ||
			got.Tags["grid"] != grid || got.Status != mlflowStatus[r.Status] || got.Tags["outerloop.error"] != r.Error {
			t.Fatalf("run %s: status %s, tags %v; want %s, seed %d, grid %s", r.ID[:8], got.Status, got.Tags, r.Status, r.Seed, grid)
		}
		if r.Provenance != "" && len(got.Tags["commit"]) < 7 {
			t.Fatalf("run %s: commit tag %q", r.ID[:8], got.Tags["commit"])
		}
		compareMetrics(t, store, r, got.Metrics)
	}
}

// compareMetrics checks every metric point and evaluation of a run.
func compareMetrics(t *testing.T, store *results.Store, r results.Run, got map[string][][2]any) {
	t.Helper()
	ctx := context.Background()
	ms, err := store.Metrics(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	evals, err := store.Evals(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][][2]any{}
	for _, m := range ms {
		want[m.Name] = append(want[m.Name], [2]any{float64(m.Step), encoded(m.Value)})
	}
	for _, e := range evals {
		k := fmt.Sprintf("eval/%s/loops_%d", e.Name, e.Loops)
		want[k] = append(want[k], [2]any{float64(e.Step), encoded(e.Value)})
		want["inference_loops/"+e.Name] = append(want["inference_loops/"+e.Name], [2]any{float64(e.Loops), encoded(e.Value)})
	}
	for k := range want {
		sort.Slice(want[k], func(i, j int) bool { return want[k][i][0].(float64) < want[k][j][0].(float64) })
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("run %s metrics from MLflow:\n%v\nwant\n%v", r.ID[:8], got, want)
	}
}

// encoded is a value as roundtrip.py writes it: a number, or "nan".
func encoded(v float64) any {
	if math.IsNaN(v) {
		return "nan"
	}
	return v
}

// mustMLflow returns the python of a virtual environment that has MLflow
// Version, creating it (pip install from PyPI) when needed. The
// environment lives in OUTERLOOP_MLFLOW_VENV or the user cache, so later
// runs start at once. An unreachable PyPI skips the test.
func mustMLflow(t *testing.T) string {
	t.Helper()
	venv := os.Getenv("OUTERLOOP_MLFLOW_VENV")
	if venv == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			t.Fatal(err)
		}
		venv = filepath.Join(cache, "outerloop", "mlflow-"+Version)
	}
	python := filepath.Join(venv, "bin", "python")
	if out, err := exec.Command(python, "-c", "import mlflow; print(mlflow.__version__)").Output(); err == nil && strings.TrimSpace(string(out)) == Version {
		return python
	}
	start := time.Now()
	if out, err := exec.Command("python3", "-m", "venv", venv).CombinedOutput(); err != nil {
		t.Fatalf("create a virtual environment in %s: %v\n%s", venv, err, out)
	}
	out, err := exec.Command(python, "-m", "pip", "install", "--quiet", "mlflow=="+Version).CombinedOutput()
	if err != nil {
		if unreachable(string(out)) {
			t.Skipf("PyPI is unreachable, so MLflow cannot be installed to read the export: %.300s", out)
		}
		t.Fatalf("pip install mlflow==%s: %v\n%s", Version, err, out)
	}
	t.Logf("installed MLflow %s into %s in %s", Version, venv, time.Since(start).Round(time.Second))
	return python
}

// unreachable tells pip's network failures from others.
func unreachable(pipOutput string) bool {
	for _, s := range []string{"Failed to establish a new connection", "Temporary failure in name resolution",
		"Network is unreachable", "Connection refused", "Read timed out", "ProxyError"} {
		if strings.Contains(pipOutput, s) {
			return true
		}
	}
	return false
}
