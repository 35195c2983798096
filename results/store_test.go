package results

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// MustOpenStore opens a fresh database in a temporary folder.
func MustOpenStore(tb testing.TB) *Store {
	tb.Helper()
	return MustOpenStoreAt(tb, filepath.Join(tb.TempDir(), "results.db"))
}

// MustOpenStoreAt opens (or creates) the database at path.
func MustOpenStoreAt(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// testRuns builds n runs whose ids are content hashes of their configs, as
// experiments would.
func testRuns(n int) []NewRun {
	runs := make([]NewRun, n)
	for i := range runs {
		cfg := fmt.Sprintf(`{"model":{"core":"trm"},"seed":%d,"train":{"loops":%d,"steps":100}}`, i%3, 1<<(i/3))
		sum := sha256.Sum256([]byte(cfg))
		runs[i] = NewRun{ID: hex.EncodeToString(sum[:]), Seed: int64(i % 3), Config: []byte(cfg)}
	}
	return runs
}

func ids(runs []NewRun) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = r.ID
	}
	return out
}

// MustPlan plans runs as grid "g".
func MustPlan(tb testing.TB, s *Store, runs []NewRun) {
	tb.Helper()
	if err := s.Plan(context.Background(), Grid{Name: "g", Title: "A grid"}, runs); err != nil {
		tb.Fatalf("Plan: %v", err)
	}
}

func TestMigrationsUpgradeV1File(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	// A v1 file, as the first release wrote it, with a run in it.
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, path: path}
	if err := old.migrate(ctx, 1); err != nil {
		t.Fatalf("migrate to v1: %v", err)
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("old file version=%d, want 1", v)
	}
	runs := testRuns(2)
	MustPlan(t, old, runs)
	if _, err := db.ExecContext(ctx, `SELECT provenance FROM runs`); err == nil {
		t.Fatalf("v1 file already has runs.provenance; the test no longer builds an old file")
	}
	db.Close()

	s := MustOpenStoreAt(t, path)
	if got, want := mustVersion(t, s), LatestSchemaVersion(); got != want {
		t.Fatalf("upgraded version=%d, want %d", got, want)
	}
	got, err := s.GridRuns(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != runs[0].ID || got[0].Provenance != "" {
		t.Fatalf("runs after upgrade=%+v, want the 2 planned runs without provenance", got)
	}
	// The new column works on the upgraded file.
	l, err := s.Claim(ctx, "me", ids(runs), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := s.AddProvenance(ctx, Provenance{Host: "h", Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetProvenance(ctx, pid); err != nil {
		t.Fatalf("SetProvenance on upgraded file: %v", err)
	}
	// Opening again applies nothing twice.
	s.Close()
	s = MustOpenStoreAt(t, path)
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(migrations) {
		t.Fatalf("schema_migrations rows=%d, want %d", n, len(migrations))
	}
}

func mustVersion(t *testing.T, s *Store) int {
	t.Helper()
	v, err := s.SchemaVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (99, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(ctx, s.Path())
	if err == nil {
		t.Fatalf("Open of a v99 file succeeded, want an error")
	}
	if want := "schema version 99 is newer"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error=%q, want it to say %q", err, want)
	}
}

func TestPlanKeepsStatusAndOrder(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(4)
	MustPlan(t, s, runs)
	l, err := s.Claim(ctx, "me", ids(runs), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Finish(ctx, Outcome{Status: Done, Wall: time.Second}); err != nil {
		t.Fatal(err)
	}
	// Planning again, reversed and with one run dropped, keeps the done run
	// done and makes the new order the current plan.
	again := []NewRun{runs[3], runs[2], runs[0]}
	MustPlan(t, s, again)
	got, err := s.GridRuns(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []string
	for _, r := range got {
		gotIDs = append(gotIDs, r.ID)
	}
	if want := ids(again); !reflect.DeepEqual(gotIDs, want) {
		t.Fatalf("GridRuns ids=%v, want %v", gotIDs, want)
	}
	if got[2].Status != Done || got[2].Wall != time.Second || got[2].Attempts != 1 {
		t.Fatalf("replanned run=%+v, want done after 1 attempt of 1s", got[2])
	}
	grids, err := s.Grids(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(grids) != 1 || grids[0].Total != 3 || grids[0].Counts[Done] != 1 || grids[0].Counts[Pending] != 2 {
		t.Fatalf("Grids=%+v, want g with 3 runs: 1 done, 2 pending", grids)
	}
}

func TestPlanRejectsBadConfig(t *testing.T) {
	s := MustOpenStore(t)
	err := s.Plan(context.Background(), Grid{Name: "g"}, []NewRun{{ID: "ab", Config: []byte("{not json")}})
	if err == nil {
		t.Fatalf("Plan with invalid JSON config succeeded")
	}
}

func TestClaimOrderAndStatuses(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(5)
	MustPlan(t, s, runs)
	all := ids(runs)
	finish := func(st Status) {
		t.Helper()
		l, err := s.Claim(ctx, "me", all, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Finish(ctx, Outcome{Status: st, Error: string(st) + " reason"}); err != nil {
			t.Fatal(err)
		}
	}
	finish(Done)        // run 0
	finish(Failed)      // run 1
	finish(Interrupted) // run 2
	// run 3 is held by a live lease, run 4 still pending.
	held, err := s.Claim(ctx, "other", all, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if held.Run.ID != all[2] || held.Run.Status != Interrupted || held.Run.Error != "interrupted reason" {
		t.Fatalf("claimed %s (%s, %q), want the interrupted run %s first", held.Run.ID, held.Run.Status, held.Run.Error, all[2])
	}
	tests := []struct {
		want    string
		wantErr error
	}{
		{all[3], nil},
		{all[4], nil},
		{"", ErrNoRun}, // done, failed and live-held runs are not claimable
	}
	for _, tc := range tests {
		l, err := s.Claim(ctx, "me", all, time.Minute)
		if !errors.Is(err, tc.wantErr) {
			t.Fatalf("Claim err=%v, want %v", err, tc.wantErr)
		}
		if err == nil && l.Run.ID != tc.want {
			t.Fatalf("Claim=%s, want %s", l.Run.ID, tc.want)
		}
	}
	n, err := s.Requeue(ctx, all, Failed)
	if err != nil || n != 1 {
		t.Fatalf("Requeue failed=%d, %v; want 1", n, err)
	}
	l, err := s.Claim(ctx, "me", all, time.Minute)
	if err != nil || l.Run.ID != all[1] {
		t.Fatalf("Claim after requeue=%v, %v; want the failed run %s", l, err, all[1])
	}
	st, err := s.Statuses(ctx, append(all, "feed"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Status{all[0]: Done, all[1]: Running, all[2]: Running, all[3]: Running, all[4]: Running}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("Statuses=%v, want %v", st, want)
	}
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(1)
	MustPlan(t, s, runs)
	first, err := s.Claim(ctx, "first", ids(runs), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Write(ctx, Batch{Metrics: []Metric{{Step: 10, Name: "loss", Value: 1}}, Checkpoint: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "second", ids(runs), time.Minute); !errors.Is(err, ErrNoRun) {
		t.Fatalf("Claim of a live lease err=%v, want ErrNoRun", err)
	}
	time.Sleep(20 * time.Millisecond)
	second, err := s.Claim(ctx, "second", ids(runs), 10*time.Millisecond)
	if err != nil {
		t.Fatalf("Claim of an expired lease: %v", err)
	}
	if second.Run.CheckpointStep != 10 || second.Run.Attempts != 1 || second.Run.LeaseOwner != "first" {
		t.Fatalf("taken-over run=%+v, want checkpoint 10, 1 attempt, held by first", second.Run)
	}
	// The stalled holder can no longer write, heartbeat or finish.
	for name, op := range map[string]func() error{
		"Write":     func() error { return first.Write(ctx, Batch{Checkpoint: 20}) },
		"Heartbeat": func() error { return first.Heartbeat(ctx) },
		"Finish":    func() error { return first.Finish(ctx, Outcome{Status: Done}) },
	} {
		if err := op(); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("%s by the old holder err=%v, want ErrLeaseLost", name, err)
		}
	}
	if err := second.Finish(ctx, Outcome{Status: Done}); err != nil {
		t.Fatal(err)
	}
	r, err := s.FindRun(ctx, runs[0].ID[:8])
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Done || r.Attempts != 2 || r.CheckpointStep != 10 {
		t.Fatalf("run=%+v, want done after 2 attempts with checkpoint 10", r)
	}
}

func TestExpireDeadHolder(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(2)
	MustPlan(t, s, runs)
	if _, err := s.Claim(ctx, "dead", ids(runs), time.Minute); err != nil {
		t.Fatal(err)
	}
	held, err := s.Held(ctx, ids(runs))
	if err != nil || len(held) != 1 || held[0].LeaseOwner != "dead" {
		t.Fatalf("Held=%+v, %v; want one run held by dead", held, err)
	}
	if st, err := s.Expire(ctx, held[0].ID, "someone else", "x"); st != "" || err != nil {
		t.Fatalf("Expire with the wrong owner=%q, %v; want \"\", nil", st, err)
	}
	if st, err := s.Expire(ctx, held[0].ID, "dead", "segfault"); st != Interrupted || err != nil {
		t.Fatalf("Expire=%q, %v; want interrupted, nil", st, err)
	}
	// The run that crashed goes after the one that never did.
	l, err := s.Claim(ctx, "me", ids(runs), time.Minute)
	if err != nil || l.Run.ID != runs[1].ID {
		t.Fatalf("first Claim after Expire=%+v, %v; want run 1, which never crashed", l, err)
	}
	l, err = s.Claim(ctx, "me", ids(runs), time.Minute)
	if err != nil || l.Run.ID != runs[0].ID || l.Run.Status != Interrupted || l.Run.Crashes != 1 {
		t.Fatalf("second Claim after Expire=%+v, %v; want run 0 as interrupted with 1 crash", l, err)
	}
}

// TestCrashLimit checks that a run whose process keeps dying is failed at
// the limit, whether the death is seen by pid (Expire) or by a lapsed
// heartbeat (Claim), and that --retry-failed's Requeue starts the count anew.
func TestCrashLimit(t *testing.T) {
	for _, how := range []string{"expire", "heartbeat"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			s := MustOpenStore(t)
			s.CrashLimit = 3
			runs := testRuns(1)
			MustPlan(t, s, runs)
			id := runs[0].ID
			if _, err := s.Claim(ctx, "p0", []string{id}, time.Minute); err != nil {
				t.Fatal(err)
			}
			for attempt := 1; attempt <= 3; attempt++ {
				// Attempt attempt-1's process dies holding the run.
				var err error
				if how == "expire" {
					if _, err = s.Expire(ctx, id, fmt.Sprintf("p%d", attempt-1), "SIGABRT: abort"); err != nil {
						t.Fatal(err)
					}
					_, err = s.Claim(ctx, fmt.Sprintf("p%d", attempt), []string{id}, time.Minute)
				} else {
					time.Sleep(5 * time.Millisecond)
					_, err = s.Claim(ctx, fmt.Sprintf("p%d", attempt), []string{id}, time.Millisecond)
				}
				if attempt < 3 && err != nil {
					t.Fatalf("claim after crash %d: %v", attempt, err)
				}
				if attempt == 3 && !errors.Is(err, ErrNoRun) {
					t.Fatalf("claim after the third crash: %v, want ErrNoRun", err)
				}
			}
			r := MustRun(t, s, id)
			if r.Status != Failed || r.Crashes != 3 || !strings.HasPrefix(r.Error, "crashed 3 times: ") {
				t.Fatalf("after 3 crashes: status %s, crashes %d, error %q; want failed, 3, \"crashed 3 times: …\"", r.Status, r.Crashes, r.Error)
			}
			if _, err := s.Claim(ctx, "later", []string{id}, time.Millisecond); !errors.Is(err, ErrNoRun) {
				t.Fatalf("Claim of a quarantined run: %v, want ErrNoRun", err)
			}
			if n, err := s.Requeue(ctx, []string{id}, Failed); n != 1 || err != nil {
				t.Fatalf("Requeue=%d, %v", n, err)
			}
			if r := MustRun(t, s, id); r.Status != Pending || r.Crashes != 0 {
				t.Fatalf("after Requeue: %s with %d crashes, want pending with 0", r.Status, r.Crashes)
			}
		})
	}
}

func TestWriteBatchAndQueries(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := testRuns(1)
	MustPlan(t, s, runs)
	id := runs[0].ID
	l, err := s.Claim(ctx, "me", []string{id}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ms []Metric
	for step := 0; step < 450; step++ { // more than two multi-row INSERTs
		ms = append(ms, Metric{Step: step, Name: "loss", Value: 1 / float64(step+1)})
	}
	ms = append(ms, Metric{Step: 450, Name: "loss", Value: math.NaN()}, Metric{Step: 0, Name: "lr", Value: math.Inf(1)})
	evals := []Eval{{Step: 450, Loops: 1, Name: "exact_accuracy", Value: 0.25}, {Step: 450, Loops: 2, Name: "exact_accuracy", Value: 0.5}}
	art := Artifact{Kind: "checkpoint", Path: "ckpt.bin", SHA256: "abc", Bytes: 3, Created: time.UnixMilli(1000)}
	if err := l.Write(ctx, Batch{Metrics: ms, Evals: evals, Artifacts: []Artifact{art}, Checkpoint: 400}); err != nil {
		t.Fatal(err)
	}
	// A resumed attempt re-logs step 10: the new value replaces the old.
	if err := l.Write(ctx, Batch{Metrics: []Metric{{Step: 10, Name: "loss", Value: 7}}, Checkpoint: NoCheckpoint}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Metrics(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 452 {
		t.Fatalf("metric rows=%d, want 452", len(got))
	}
	if got[10].Value != 7 || !math.IsNaN(got[450].Value) || !math.IsInf(got[451].Value, 1) {
		t.Fatalf("loss@10=%v loss@450=%v lr@0=%v, want 7, NaN, +Inf", got[10].Value, got[450].Value, got[451].Value)
	}
	last, err := s.LastMetrics(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last[0].Name != "loss" || last[0].Step != 450 || last[1].Name != "lr" {
		t.Fatalf("LastMetrics=%v, want loss@450 and lr@0", last)
	}
	gotEvals, err := s.Evals(ctx, id)
	if err != nil || !reflect.DeepEqual(gotEvals, evals) {
		t.Fatalf("Evals=%v, %v; want %v", gotEvals, err, evals)
	}
	arts, err := s.Artifacts(ctx, id)
	if err != nil || len(arts) != 1 || arts[0] != art {
		t.Fatalf("Artifacts=%v, %v; want [%v]", arts, err, art)
	}
	r, err := s.FindRun(ctx, id)
	if err != nil || r.CheckpointStep != 400 {
		t.Fatalf("run checkpoint=%d, %v; want 400", r.CheckpointStep, err)
	}
}

func TestFindRun(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	runs := []NewRun{
		{ID: "aaaa1111", Config: []byte("{}")},
		{ID: "aaaa2222", Config: []byte("{}")},
	}
	MustPlan(t, s, runs)
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"aaaa1", "aaaa1111", ""},
		{"AAAA2222", "aaaa2222", ""},
		{"aaaa", "", "more than one run"},
		{"b", "", "not found"},
		{"xyz", "", "hexadecimal"},
	}
	for _, tc := range tests {
		r, err := s.FindRun(ctx, tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("FindRun(%q) err=%v, want one containing %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || r.ID != tc.want {
			t.Fatalf("FindRun(%q)=%s, %v; want %s", tc.in, r.ID, err, tc.want)
		}
	}
}

func TestProvenanceRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	p := Provenance{GitCommit: "abc", GitDirty: true, GoVersion: "go1.26", LibtorchVersion: "2.1.0",
		LibtorchABI: "pre-cxx11", Host: "h", CPUModel: "cpu", Threads: 4, Info: map[string]string{"device": "cpu"}}
	id, err := s.AddProvenance(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.AddProvenance(ctx, p)
	if err != nil || again != id {
		t.Fatalf("second AddProvenance id=%s, %v; want the same %s", again, err, id)
	}
	got, err := s.Provenance(ctx, id)
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("Provenance=%+v, %v; want %+v", got, err, p)
	}
	if _, err := s.Provenance(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Provenance(nope) err=%v, want ErrNotFound", err)
	}
}

// MustRun reads one run by id.
func MustRun(tb testing.TB, s *Store, id string) Run {
	tb.Helper()
	runs, err := s.Runs(context.Background(), []string{id})
	if err != nil || len(runs) != 1 {
		tb.Fatalf("read run %s: %v (%d rows)", id, err, len(runs))
	}
	return runs[0]
}
