package results

import (
	"context"
	"database/sql"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOpenReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	current := filepath.Join(dir, "current.db")
	MustPlan(t, MustOpenStoreAt(t, current), testRuns(2))
	old := filepath.Join(dir, "old.db")
	db, err := sql.Open("sqlite3", dsn(old))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Store{db: db, path: old}).migrate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tests := []struct {
		path, wantErr string
	}{
		{current, ""},
		{old, "older than this binary's"},
		{filepath.Join(dir, "missing.db"), "no such file"},
	}
	for _, tc := range tests {
		s, err := OpenReadOnly(ctx, tc.path)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("OpenReadOnly(%s): %v, want an error with %q", filepath.Base(tc.path), err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'done'`); err == nil || !strings.Contains(err.Error(), "readonly") {
			t.Fatalf("a write through the read-only store: %v, want it refused", err)
		}
		if grids, err := s.Grids(ctx); err != nil || len(grids) != 1 {
			t.Fatalf("Grids: %v, %v", grids, err)
		}
		s.Close()
	}
}

func TestStampMovesWithEveryWrite(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(2)
	MustPlan(t, s, runs)
	stamps := map[string]string{}
	take := func(what string) {
		t.Helper()
		time.Sleep(2 * time.Millisecond) // heartbeats are in milliseconds
		for _, grid := range []string{"g", ""} {
			st, err := s.Stamp(ctx, grid)
			if err != nil {
				t.Fatal(err)
			}
			for before, old := range stamps {
				if old == st && strings.HasPrefix(before, grid+":") {
					t.Fatalf("stamp of %q after %s equals the one after %s", grid, what, before)
				}
			}
			stamps[grid+":"+what] = st
		}
	}
	take("plan")
	l, err := s.Claim(ctx, "me", ids(runs), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	take("claim")
	if err := l.Write(ctx, Batch{Metrics: []Metric{{Step: 1, Name: "loss", Value: 1}}, Checkpoint: NoCheckpoint}); err != nil {
		t.Fatal(err)
	}
	take("write")
	if err := l.Finish(ctx, Outcome{Status: Done}); err != nil {
		t.Fatal(err)
	}
	take("finish")
	if st, _ := s.Stamp(ctx, "g"); st != stamps["g:finish"] {
		t.Fatalf("stamp moved without a write")
	}
}

func TestViewerQueries(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(3)
	MustPlan(t, s, runs)
	l, err := s.Claim(ctx, "me", ids(runs[:1]), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{Checkpoint: NoCheckpoint}
	for step := 1; step <= 100; step++ {
		b.Metrics = append(b.Metrics, Metric{Step: step, Name: "loss", Value: 1 / float64(step)},
			Metric{Step: 2 * step, Name: "acc", Value: float64(step)})
	}
	b.Metrics = append(b.Metrics, Metric{Step: 300, Name: "loss", Value: math.NaN()})
	for _, step := range []int{50, 100} {
		for loops := 1; loops <= 3; loops++ {
			b.Evals = append(b.Evals, Eval{Step: step, Loops: loops, Name: "exact_accuracy", Value: float64(step*loops) / 1000})
		}
	}
	if err := l.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	last, err := s.LastMetricsOf(ctx, ids(runs))
	if err != nil {
		t.Fatal(err)
	}
	got := last[runs[0].ID]
	if len(last) != 1 || len(got) != 2 || got[0] != (Metric{Step: 200, Name: "acc", Value: 100}) ||
		got[1].Name != "loss" || got[1].Step != 300 || !math.IsNaN(got[1].Value) {
		t.Fatalf("LastMetricsOf=%v, want acc at 200 and loss (NaN) at 300 for the one run that logged", last)
	}
	final, err := s.FinalEvalsOf(ctx, ids(runs))
	if err != nil {
		t.Fatal(err)
	}
	want := []Eval{{100, 1, "exact_accuracy", 0.1}, {100, 2, "exact_accuracy", 0.2}, {100, 3, "exact_accuracy", 0.3}}
	if len(final) != 1 || !reflect.DeepEqual(final[runs[0].ID], want) {
		t.Fatalf("FinalEvalsOf=%v, want the step-100 curve", final)
	}
	series, err := s.MetricSeries(ctx, runs[0].ID, "acc")
	if err != nil || len(series) != 100 || series[0].Step != 2 || series[99].Value != 100 {
		t.Fatalf("MetricSeries: %d points (%v), want 100 from step 2", len(series), err)
	}
}

func TestFlatConfig(t *testing.T) {
	got, err := FlatConfig([]byte(`{"model":{"core":"trm","hidden":64},"seed":1,"task":{"families":["a","b"]}}`))
	want := map[string]string{"model.core": "trm", "model.hidden": "64", "seed": "1", "task.families": `["a","b"]`}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("FlatConfig=%v (%v), want %v", got, err, want)
	}
}
