package web

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"outerloop/results"
)

// TestPollingDoesNotBlockTheWriter writes metric batches, as a training
// run's recorder does, while four clients poll every endpoint as fast as
// they can. In WAL mode readers never block the writer, and the server
// holds no read transaction between requests, so every write stays fast
// and, once the polling stops, a TRUNCATE checkpoint (which needs every
// reader gone) succeeds at once with the server still up.
func TestPollingDoesNotBlockTheWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("times writes under load")
	}
	ctx := context.Background()
	db := mustTrainedDB(t)
	ts, store := mustServe(t, db)
	runs, err := store.GridRuns(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	writer, err := results.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.Requeue(ctx, []string{runs[1].ID}, results.Failed); err != nil {
		t.Fatal(err)
	}
	lease, err := writer.Claim(ctx, "writer", []string{runs[1].ID}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stop, polls := poll(ts, []string{"/api/grids", "/api/grid?name=web", "/api/report?grid=web", "/api/run?id=" + runs[1].ID,
		"/api/curves?metric=loss&run=" + runs[1].ID + "&run=" + runs[0].ID, "/api/evals?run=" + runs[0].ID})
	took := timeWrites(t, lease, 40)
	stop()
	t.Logf("%d polls during 40 writes of 1000 rows: write median %s, max %s", polls.Load(), took[len(took)/2], took[len(took)-1])
	if polls.Load() < 40 || took[len(took)-1] > time.Second {
		t.Fatalf("%d polls; slowest write %s; want the writer never held up by readers", polls.Load(), took[len(took)-1])
	}
	mustHoldControl(t, db)
	if busy, wal := checkpoint(t, db); busy != 0 || wal != 0 {
		t.Fatalf("checkpoint: busy=%d, WAL %d bytes; want the WAL emptied: no reader left a transaction open", busy, wal)
	}
}

// poll requests the paths in turn from four clients, as fast as they can,
// until stop is called; polls counts the answers.
func poll(ts *httptest.Server, paths []string) (stop func(), polls *atomic.Int64) {
	done := make(chan struct{})
	polls = &atomic.Int64{}
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				if res, err := http.Get(ts.URL + paths[i%len(paths)]); err == nil {
					res.Body.Close()
					polls.Add(1)
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }, polls
}

// timeWrites writes n batches of 1000 metric rows, as a run's recorder
// does, and returns how long each took, sorted.
func timeWrites(t *testing.T, lease *results.Lease, n int) []time.Duration {
	t.Helper()
	var took []time.Duration
	for batch := range n {
		b := results.Batch{Checkpoint: results.NoCheckpoint}
		for i := range 1000 {
			b.Metrics = append(b.Metrics, results.Metric{Step: 100 + batch*1000 + i, Name: "loss", Value: 0.1})
		}
		start := time.Now()
		if err := lease.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		took = append(took, time.Since(start))
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(took)
	return took
}

// mustHoldControl shows the check can fail: a reader that keeps a
// transaction open makes the checkpoint busy.
func mustHoldControl(t *testing.T, db string) {
	t.Helper()
	held, err := sql.Open("sqlite3", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	tx, err := held.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM metrics`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if busy, _ := checkpoint(t, db); busy != 1 {
		t.Fatalf("checkpoint with a read transaction open: busy=%d, want 1", busy)
	}
}

// checkpoint runs a TRUNCATE checkpoint, which is busy while any
// connection holds a read transaction open, and returns the WAL's size
// after it.
func checkpoint(t *testing.T, db string) (busy int, wal int64) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=500")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var logFrames, done int
	if err := conn.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(db + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	return busy, info.Size()
}
