package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"outerloop/chromium"
	"outerloop/harness/harnesstest"
	"outerloop/results"
)

var serveShots = flag.String("shots", "", "write screenshots of the serve UI's pages into this folder (docs/ for the README)")

// startServe starts `harness serve` on a free port and returns its URL.
func startServe(t *testing.T, db string) (string, *proc) {
	t.Helper()
	p := startHarness(t, "", "serve", "--db", db, "--addr", "127.0.0.1:0")
	addr := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)/`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(p.output()); m != nil {
			return m[1], p
		}
	}
	t.Fatalf("harness serve did not say where it listens:\n%s", p.output())
	return "", nil
}

// TestServeWatchesAGridTrain runs the real binaries: one grid trained
// already (one seed failing), `harness serve` on the database, and a second
// grid training while headless Chromium watches its page. A running run's
// curve gains points within 2 s of each write, the run turns done in the
// table, and the claim goes from inconclusive to reproduced; no page logs
// a console error.
func TestServeWatchesAGridTrain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	db := filepath.Join(dir, "outerloop.db")
	first := startHarness(t, "fake,delay=2ms,fail=2", "run", "--jobs", "2", "--progress", "lines", "--db", db,
		harnesstest.WriteClaimGrid(t, dir, "warmup", "A finished grid, one seed failing", 20))
	if code := first.exit(t, 60*time.Second); code != exitFailed {
		t.Fatalf("first grid: exit %d, want 1 (seed 2 fails); output:\n%s", code, first.output())
	}
	b := chromium.MustStart(t, ctx)
	url, server := startServe(t, db)
	live := startHarness(t, "fake,delay=150ms", "run", "--jobs", "3", "--progress", "lines", "--db", db,
		harnesstest.WriteClaimGrid(t, dir, "live", "Watching a grid train", 40))
	w := &watcher{t: t, ctx: ctx, b: b, db: db, server: server}
	until(t, db, live, "the live grid planned", func([]results.Run) bool { return gridPlanned(t, db, "live") })
	w.load(url + "/grid?name=live")
	w.until("the claim is inconclusive while runs train",
		`document.querySelector("#claims .verdict > p:first-child .badge.inconclusive") !== null &&
		document.querySelector("#runs-table tr[data-status=running]") !== null`)
	running := w.firstRunning()
	w.eval(`(() => { const cb = document.querySelector('#runs-table input[data-run="`+running+`"]'); cb.click(); return JSON.stringify(true); })()`, new(bool))
	lag := w.curveLag(running)
	t.Logf("live curve: new points shown %v after they were written (polling every second)", lag)
	w.until("the watched run turns done", `document.querySelector('#runs-table tr[data-run="`+running+`"][data-status=done]') !== null`)
	// With nothing selected the curves follow the running runs.
	w.eval(`(() => { document.querySelector('#runs-table input[data-run="`+running+`"]').click(); return JSON.stringify(true); })()`, new(bool))
	if w.b.WaitFor(ctx, `JSON.stringify(document.querySelectorAll("#runs-table tr[data-status=running]").length > 0 &&
		document.querySelector("#curves svg").dataset.series === "3" &&
		Number(document.querySelector("#curves svg").dataset.points) > 30)`, 10*time.Second) == nil {
		w.shoot("grid-live")
	}
	if code := live.exit(t, 90*time.Second); code != exitOK {
		t.Fatalf("live grid: exit %d; output:\n%s", code, live.output())
	}
	w.until("the claim is reproduced", `document.querySelector("#claims .verdict > p:first-child .badge.reproduced") !== null &&
		document.querySelectorAll("#runs-table tr[data-status=done]").length === 6 &&
		document.querySelectorAll("#figures figure svg").length >= 3`)
	w.noErrors("grid")
	w.shoot("grid")
	w.pages(url)
}

func gridPlanned(t *testing.T, db, name string) bool {
	t.Helper()
	s, err := results.OpenReadOnly(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	grids, err := s.Grids(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range grids {
		if g.Name == name {
			return true
		}
	}
	return false
}

// watcher drives the browser for TestServeWatchesAGridTrain.
type watcher struct {
	t      *testing.T
	ctx    context.Context
	b      *chromium.Browser
	db     string
	server *proc
}

func (w *watcher) load(url string) {
	w.t.Helper()
	if _, err := w.b.Load(w.ctx, url); err != nil {
		w.t.Fatal(err)
	}
}

func (w *watcher) eval(expr string, out any) {
	w.t.Helper()
	if err := w.b.Eval(w.ctx, expr, out); err != nil {
		w.t.Fatal(err)
	}
}

func (w *watcher) until(what, cond string) {
	w.t.Helper()
	if err := w.b.WaitFor(w.ctx, "JSON.stringify("+cond+")", 60*time.Second); err != nil {
		var text string
		_ = w.b.Eval(w.ctx, `JSON.stringify(document.body.innerText.slice(0, 3000))`, &text)
		w.t.Fatalf("waiting for %s: %v\npage:\n%s\nharness serve:\n%s", what, err, text, w.server.output())
	}
}

func (w *watcher) noErrors(page string) {
	w.t.Helper()
	if errs := w.b.ConsoleErrors(); len(errs) != 0 {
		w.t.Fatalf("page %s logged console errors: %q", page, errs)
	}
}

func (w *watcher) firstRunning() string {
	w.t.Helper()
	var id string
	w.eval(`JSON.stringify(document.querySelector("#runs-table tr[data-status=running]").dataset.run)`, &id)
	return id
}

// curveLag watches the database and the page together: each time the run's
// loss curve gains points in the database, it times how long the page's
// chart takes to show them, and returns the longest wait. The recorder
// writes every 2 s, so a 10-step run shows several writes.
func (w *watcher) curveLag(run string) time.Duration {
	w.t.Helper()
	store, err := results.OpenReadOnly(w.ctx, w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	defer store.Close()
	var worst time.Duration
	seen, updates := -1, 0
	for updates < 3 {
		pts, err := store.MetricSeries(w.ctx, run, "loss")
		if err != nil {
			w.t.Fatal(err)
		}
		if n := len(pts); n != seen && n > 0 {
			written := time.Now()
			cond := fmt.Sprintf(`Number(document.querySelector("#curves svg").dataset.points) >= %d`, n)
			if err := w.b.WaitFor(w.ctx, "JSON.stringify("+cond+")", 2*time.Second); err != nil {
				w.t.Fatalf("curve of run %s: %d points in the database, not on the page within 2 s: %v", run[:8], n, err)
			}
			worst = max(worst, time.Since(written))
			if seen >= 0 {
				updates++
			}
			seen = n
			if n >= 40 {
				break
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	if updates == 0 {
		w.t.Fatalf("the run's curve never grew while watched")
	}
	return worst
}

// shoot saves the page's screenshot into -shots.
func (w *watcher) shoot(name string) {
	w.t.Helper()
	if *serveShots == "" {
		return
	}
	png, err := w.b.Screenshot(w.ctx)
	if err == nil {
		err = os.WriteFile(filepath.Join(*serveShots, "serve-"+name+".png"), png, 0o644)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// pages visits the other pages over the finished database: the grids list
// with both grids' verdicts, a failed run, and runs of both grids compared.
func (w *watcher) pages(url string) {
	w.t.Helper()
	store, err := results.OpenReadOnly(w.ctx, w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	defer store.Close()
	pick := func(grid string, st results.Status) string {
		runs, err := store.GridRuns(w.ctx, grid)
		if err != nil {
			w.t.Fatal(err)
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i].Seed < runs[j].Seed })
		for _, r := range runs {
			if r.Status == st {
				return r.ID
			}
		}
		w.t.Fatalf("no %s run in %s", st, grid)
		return ""
	}
	failed := pick("warmup", results.Failed)
	visits := []struct{ name, path, ready string }{
		{"grids", "/", `document.querySelectorAll("#grids-table .verdict-line .badge").length === 2`},
		{"run", "/run?id=" + failed, `document.getElementById("run-error") !== null && document.querySelector(".small-multiple svg[data-points]") !== null`},
		{"compare", "/compare?run=" + pick("warmup", results.Done) + "&run=" + pick("live", results.Done),
			`document.querySelectorAll("#config-diff tbody tr").length > 0 && Number(document.querySelector("#loops svg").dataset.points) > 0`},
	}
	for _, v := range visits {
		w.load(url + v.path)
		w.until("page "+v.name, v.ready)
		w.noErrors(v.name)
		w.shoot(v.name)
	}
}

func TestServeRefusesARemoteAddressWithoutTheFlag(t *testing.T) {
	dir := t.TempDir()
	db := trainedDB(t, dir, writeGrid(t, dir, "[1, 2]", 10))
	tests := []struct {
		args   []string
		want   int
		stderr string
	}{
		{[]string{"serve", "--db", db, "--addr", "0.0.0.0:0"}, exitBadInput, "--allow-remote"},
		{[]string{"serve", "--db", db, "--addr", ":0"}, exitBadInput, "--allow-remote"},
		{[]string{"serve", "--db", db, "--addr", "example.com:80"}, exitBadInput, "IP address or localhost"},
		{[]string{"serve", "--db", filepath.Join(dir, "none.db")}, exitBadInput, "no results database"},
		{[]string{"serve", "--db", db, "extra"}, exitBadInput, "takes no arguments"},
	}
	for _, tc := range tests {
		code, _, stderr := cli(tc.args...)
		if code != tc.want || !strings.Contains(stderr, tc.stderr) {
			t.Fatalf("harness %s: code %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.want, tc.stderr)
		}
	}
	// With the flag it serves, and warns; Ctrl-C (a cancelled context)
	// stops it cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"serve", "--db", db, "--addr", "0.0.0.0:0", "--allow-remote"}, out, errb)
	}()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "serving") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK || !strings.Contains(errb.String(), "warning: serving") || !strings.Contains(errb.String(), "without authentication") {
		t.Fatalf("serve --allow-remote: code %d, stdout %q, stderr %q; want it to serve with a warning and stop on cancel", code, out.String(), errb.String())
	}
}

// syncBuffer is a buffer safe to write from the command's goroutine while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
