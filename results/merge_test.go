package results

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// train claims run id in s as owner and finishes it with status st, having
// written n loss values that start at base.
func train(t *testing.T, s *Store, id string, st Status, n int, base float64) {
	t.Helper()
	ctx := context.Background()
	l, err := s.Claim(ctx, "owner-"+string(st), []string{id}, time.Minute)
	if err != nil {
		t.Fatalf("claim %s: %v", id[:8], err)
	}
	b := Batch{Checkpoint: n - 1, Artifacts: []Artifact{{Kind: "checkpoint", Path: "ckpt", SHA256: fmt.Sprint(base), Bytes: 1}}}
	for i := range n {
		b.Metrics = append(b.Metrics, Metric{Step: i, Name: "loss", Value: base + float64(i)})
	}
	b.Evals = []Eval{{Step: n - 1, Loops: 1, Name: "exact_accuracy", Value: base}}
	if err := l.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	pid, err := s.AddProvenance(ctx, Provenance{Host: "host-" + string(st), Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetProvenance(ctx, pid); err != nil {
		t.Fatal(err)
	}
	if st == Running {
		return
	}
	if err := l.Finish(ctx, Outcome{Status: st, Error: "why " + string(st), Wall: time.Second}); err != nil {
		t.Fatal(err)
	}
}

// dump renders every table of a database, sorted, with run keys replaced
// by ids (keys differ between files that hold the same data).
func dump(t *testing.T, s *Store) string {
	t.Helper()
	queries := []string{
		`SELECT name, title, description, path FROM grids ORDER BY name`,
		`SELECT id, config, seed, status, lease_owner, heartbeat_at, attempts, error, wall_seconds, started_at,
			finished_at, checkpoint_step, provenance FROM runs ORDER BY id`,
		`SELECT g.grid, r.id, g.position, g.current FROM grid_runs g JOIN runs r ON r.key = g.run ORDER BY 1, 2`,
		`SELECT r.id, m.name, m.step, m.value FROM metrics m JOIN runs r ON r.key = m.run ORDER BY 1, 2, 3`,
		`SELECT r.id, e.step, e.loops, e.name, e.value FROM evals e JOIN runs r ON r.key = e.run ORDER BY 1, 2, 3, 4`,
		`SELECT r.id, a.kind, a.path, a.sha256, a.bytes FROM artifacts a JOIN runs r ON r.key = a.run ORDER BY 1, 2, 3`,
		`SELECT * FROM provenance ORDER BY id`,
	}
	var b strings.Builder
	for _, q := range queries {
		rows, err := s.db.Query(q)
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

func TestMergeFurthestCopyWinsAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	runs := testRuns(4)
	all := ids(runs)
	a := MustOpenStoreAt(t, filepath.Join(dir, "a.db"))
	b := MustOpenStoreAt(t, filepath.Join(dir, "b.db"))
	MustPlan(t, a, runs)
	MustPlan(t, b, runs)
	train(t, a, all[0], Done, 5, 100)       // done in a, pending in b
	train(t, a, all[1], Interrupted, 3, 10) // interrupted in a, done in b
	train(t, b, all[1], Done, 6, 200)
	train(t, b, all[2], Failed, 2, 300) // failed in b, pending in a
	a.Close()
	b.Close()

	dst := MustOpenStoreAt(t, filepath.Join(dir, "main.db"))
	stats, err := dst.Merge(ctx, a.Path(), b.Path())
	if err != nil {
		t.Fatal(err)
	}
	want := []MergeStats{
		{Source: a.Path(), Added: 4},
		{Source: b.Path(), Updated: 2, Kept: 2}, // run 1 (done beats interrupted), run 2 (failed beats pending)
	}
	if !reflect.DeepEqual(stats, want) {
		t.Fatalf("Merge stats=%+v, want %+v", stats, want)
	}
	got, err := dst.GridRuns(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus := []Status{Done, Done, Failed, Pending}
	for i, r := range got {
		if r.Status != wantStatus[i] {
			t.Fatalf("run %d status=%s, want %s", i, r.Status, wantStatus[i])
		}
	}
	// Run 1's curve is b's whole curve: none of a's interrupted attempt.
	ms, err := dst.Metrics(ctx, all[1])
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 6 || ms[0].Value != 200 || ms[5].Value != 205 {
		t.Fatalf("run 1 metrics=%v, want b's 6 values 200..205", ms)
	}
	p, err := dst.Provenance(ctx, got[1].Provenance)
	if err != nil || p.Host != "host-done" {
		t.Fatalf("run 1 provenance=%+v, %v; want b's (host-done)", p, err)
	}

	before := dump(t, dst)
	stats, err = dst.Merge(ctx, a.Path(), b.Path(), a.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range stats {
		if st.Added != 0 || st.Updated != 0 || st.Kept != 4 {
			t.Fatalf("second merge stats=%+v, want all 4 runs kept", st)
		}
	}
	if after := dump(t, dst); after != before {
		t.Fatalf("merging again changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestMergeRefusesItself(t *testing.T) {
	s := MustOpenStore(t)
	if _, err := s.Merge(context.Background(), s.Path()); err == nil || !strings.Contains(err.Error(), "destination") {
		t.Fatalf("merging a db into itself err=%v, want a refusal", err)
	}
}

func TestMergeUpgradesOldShard(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatal(err)
	}
	old := &Store{db: db, path: path}
	if err := old.migrate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	MustPlan(t, old, testRuns(2))
	db.Close()
	dst := MustOpenStore(t)
	stats, err := dst.Merge(ctx, path)
	if err != nil {
		t.Fatalf("merge of a v1 shard: %v", err)
	}
	if stats[0].Added != 2 {
		t.Fatalf("merge of a v1 shard added %d runs, want 2", stats[0].Added)
	}
}

func TestMergeRunsCopiesOnlyTheGivenRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	runs := testRuns(3)
	all := ids(runs)
	src := MustOpenStoreAt(t, filepath.Join(dir, "main.db"))
	MustPlan(t, src, runs)
	train(t, src, all[0], Interrupted, 4, 10)
	train(t, src, all[1], Done, 3, 20)

	seed := MustOpenStoreAt(t, filepath.Join(dir, "seed.db"))
	st, err := seed.MergeRuns(ctx, src.Path(), all[:1])
	if err != nil {
		t.Fatal(err)
	}
	if want := (MergeStats{Source: src.Path(), Added: 1}); st != want {
		t.Fatalf("MergeRuns stats=%+v, want %+v", st, want)
	}
	got, err := seed.Runs(ctx, all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != all[0] || got[0].Status != Interrupted || got[0].CheckpointStep != 3 {
		t.Fatalf("seed runs=%+v, want only run 0, interrupted at checkpoint 3", got)
	}
	ms, err := seed.Metrics(ctx, all[0])
	if err != nil || len(ms) != 4 {
		t.Fatalf("seed metrics of run 0=%v, %v; want its 4 values", ms, err)
	}
	plan, err := seed.GridRuns(ctx, "g")
	if err != nil || len(plan) != 1 {
		t.Fatalf("seed plan=%v, %v; want the one run", plan, err)
	}
	// A full merge afterwards still sees every run.
	stats, err := seed.Merge(ctx, src.Path())
	if err != nil || stats[0].Added != 2 || stats[0].Kept != 1 {
		t.Fatalf("full merge after MergeRuns: %+v, %v; want 2 added, 1 kept", stats, err)
	}
}
