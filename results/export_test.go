package results

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// exportFixture is a database with two planned runs in grid g (one trained,
// with a NaN loss and provenance) and one run in another grid.
func exportFixture(t *testing.T) (*Store, []NewRun) {
	t.Helper()
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(3)
	MustPlan(t, s, runs[:2])
	if err := s.Plan(ctx, Grid{Name: "other"}, runs[2:]); err != nil {
		t.Fatal(err)
	}
	l, err := s.Claim(ctx, "me", []string{runs[0].ID}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b := Batch{Checkpoint: 2, Evals: []Eval{{Step: 2, Loops: 1, Name: "acc", Value: 0.5}, {Step: 2, Loops: 2, Name: "acc", Value: math.NaN()}}}
	for i := range 3 {
		b.Metrics = append(b.Metrics, Metric{Step: i, Name: "loss", Value: 1.5 / float64(i+1)})
	}
	b.Metrics = append(b.Metrics, Metric{Step: 3, Name: "loss", Value: math.NaN()})
	if err := l.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	pid, err := s.AddProvenance(ctx, Provenance{GitCommit: "c0ffee", Host: "h", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetProvenance(ctx, pid); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, Outcome{Status: Failed, Error: "loss is NaN at step 3", Wall: 1500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return s, runs
}

func TestExportRunsJSONLRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, runs := exportFixture(t)
	var buf bytes.Buffer
	if err := s.ExportRuns(ctx, &buf, JSONL, "g"); err != nil {
		t.Fatal(err)
	}
	var got []ExportedRun
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var r ExportedRun
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	if len(got) != 2 {
		t.Fatalf("exported %d runs of g, want 2", len(got))
	}
	stored, err := s.Runs(ctx, []string{got[0].ID, got[1].ID})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range got {
		r := stored[i]
		if e.Status != r.Status || e.Error != r.Error || e.Seed != r.Seed || e.WallSeconds != r.Wall.Seconds() ||
			e.CheckpointStep != r.CheckpointStep || !reflect.DeepEqual(e.Grids, []string{"g"}) {
			t.Fatalf("exported %+v, want it to match stored %+v", e, r)
		}
		if !jsonEqual(t, e.Config, r.Config) {
			t.Fatalf("exported config %s, want %s", e.Config, r.Config)
		}
		if r.ID == runs[0].ID {
			if e.Provenance == nil || e.Provenance.GitCommit != "c0ffee" || e.Started == "" {
				t.Fatalf("trained run exported as %+v, want provenance and a start time", e)
			}
		} else if e.Provenance != nil || e.Started != "" {
			t.Fatalf("untrained run exported as %+v, want no provenance or times", e)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestExportRunsCSVFlattensConfig(t *testing.T) {
	s, runs := exportFixture(t)
	var buf bytes.Buffer
	if err := s.ExportRuns(context.Background(), &buf, CSV, ""); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 {
		t.Fatalf("CSV rows=%d, want a header and 3 runs", len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, h := range []string{"id", "status", "git_commit", "config.train.loops", "config.model.core", "config.seed"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("CSV header %v lacks %q", recs[0], h)
		}
	}
	for _, rec := range recs[1:] {
		if rec[col["id"]] != runs[0].ID {
			continue
		}
		if got := rec[col["status"]]; got != "failed" {
			t.Fatalf("status=%q, want failed", got)
		}
		if got := rec[col["config.train.loops"]]; got != "1" {
			t.Fatalf("config.train.loops=%q, want 1", got)
		}
		if got := rec[col["git_commit"]]; got != "c0ffee" {
			t.Fatalf("git_commit=%q, want c0ffee", got)
		}
		return
	}
	t.Fatalf("run %s missing from the CSV", runs[0].ID)
}

func TestExportMetricsAndEvalsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, runs := exportFixture(t)
	id := runs[0].ID
	wantMetrics, err := s.Metrics(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	wantEvals, err := s.Evals(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{CSV, JSONL} {
		var mbuf, ebuf bytes.Buffer
		if err := s.ExportMetrics(ctx, &mbuf, f, "g"); err != nil {
			t.Fatal(err)
		}
		if err := s.ExportEvals(ctx, &ebuf, f, "g"); err != nil {
			t.Fatal(err)
		}
		var gotMetrics []Metric
		for _, row := range readRows(t, f, &mbuf, []string{"run", "name", "step", "value"}) {
			if row[0] != id {
				t.Fatalf("%s metrics row for run %s, want only %s", f, row[0], id)
			}
			gotMetrics = append(gotMetrics, Metric{Name: row[1], Step: atoi(t, row[2]), Value: atof(t, row[3])})
		}
		var gotEvals []Eval
		for _, row := range readRows(t, f, &ebuf, []string{"run", "step", "loops", "name", "value"}) {
			gotEvals = append(gotEvals, Eval{Step: atoi(t, row[1]), Loops: atoi(t, row[2]), Name: row[3], Value: atof(t, row[4])})
		}
		if !sameNaN(gotMetrics, wantMetrics) {
			t.Fatalf("%s metrics=%v, want %v", f, gotMetrics, wantMetrics)
		}
		if !sameNaN(gotEvals, wantEvals) {
			t.Fatalf("%s evals=%v, want %v", f, gotEvals, wantEvals)
		}
	}
}

// readRows parses an export back into string fields in column order; a JSON
// null (NaN) comes back as "NaN".
func readRows(t *testing.T, f Format, buf *bytes.Buffer, columns []string) [][]string {
	t.Helper()
	if f == CSV {
		recs, err := csv.NewReader(buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(recs[0], columns) {
			t.Fatalf("CSV header=%v, want %v", recs[0], columns)
		}
		return recs[1:]
	}
	var out [][]string
	sc := bufio.NewScanner(buf)
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		row := make([]string, len(columns))
		for i, c := range columns {
			switch v := obj[c].(type) {
			case nil:
				row[i] = "NaN"
			case string:
				row[i] = v
			case float64:
				row[i] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		out = append(out, row)
	}
	return out
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// sameNaN compares slices whose NaN values should count as equal: fmt
// prints NaN as NaN, where == says NaN differs from itself.
func sameNaN[T any](a, b []T) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{{"csv", CSV, false}, {"JSONL", JSONL, false}, {"parquet", "", true}}
	for _, tc := range tests {
		got, err := ParseFormat(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Fatalf("ParseFormat(%q)=%q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
