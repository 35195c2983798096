package web

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/chromium"
	"outerloop/results"
)

// Strings a database could hold that must reach the page as text: markup
// that would run script if it were parsed, quotes that would end an
// attribute, and text long enough to break a layout.
var (
	hostileGrid   = `<script>window.pwned=1</script>"'&<img src=x onerror="window.pwned=2">`
	hostileKey    = `<img src=x onerror=window.pwned=3>`
	hostileValue  = `"><svg onload=window.pwned=4>` + strings.Repeat("x", 300)
	hostileError  = `</pre><script>window.pwned=5</script>` + strings.Repeat("very long error ", 1500)
	hostileMetric = `<b onmouseover=window.pwned=6>loss</b>`
)

// mustHostileDB builds a database with a grid whose name, config keys and
// values, metric names and error message are all hostile: one failed run
// with metrics and evaluations, one pending.
func mustHostileDB(tb testing.TB) (db string, failed string) {
	tb.Helper()
	ctx := context.Background()
	db = filepath.Join(tb.TempDir(), "results.db")
	store, err := results.Open(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer store.Close()
	var runs []results.NewRun
	for i, v := range []string{hostileValue, "plain"} {
		cfg, err := json.Marshal(map[string]any{"seed": i + 1, hostileKey: v, "train": map[string]any{"loops": 1}})
		if err != nil {
			tb.Fatal(err)
		}
		runs = append(runs, results.NewRun{ID: strings.Repeat(string(rune('a'+i)), 64), Seed: int64(i + 1), Config: cfg})
	}
	g := results.Grid{Name: hostileGrid, Title: hostileGrid, Description: hostileError, Path: "/nonexistent/" + hostileGrid + ".toml"}
	if err := store.Plan(ctx, g, runs); err != nil {
		tb.Fatal(err)
	}
	lease, err := store.Claim(ctx, "test", []string{runs[0].ID}, time.Minute)
	if err != nil {
		tb.Fatal(err)
	}
	b := results.Batch{Checkpoint: results.NoCheckpoint}
	for step := 1; step <= 50; step++ {
		v := 1 / float64(step)
		if step == 50 {
			v = math.NaN()
		}
		b.Metrics = append(b.Metrics, results.Metric{Step: step, Name: hostileMetric, Value: v})
	}
	for loops := 1; loops <= 3; loops++ {
		b.Evals = append(b.Evals, results.Eval{Step: 50, Loops: loops, Name: hostileMetric, Value: float64(loops) / 4})
	}
	if err := lease.Write(ctx, b); err != nil {
		tb.Fatal(err)
	}
	if err := lease.Finish(ctx, results.Outcome{Status: results.Failed, Error: hostileError}); err != nil {
		tb.Fatal(err)
	}
	return db, runs[0].ID
}

// TestHostileStringsInJSON checks the API hands hostile strings over
// exactly, with no markup in the bytes (encoding/json escapes <, > and &).
func TestHostileStringsInJSON(t *testing.T) {
	db, failed := mustHostileDB(t)
	ts, _ := mustServe(t, db)
	tests := []struct {
		path string
		want []string
	}{
		{"/api/grids", []string{hostileGrid, hostileError}},
		{"/api/grid?name=" + url.QueryEscape(hostileGrid), []string{hostileGrid, hostileKey, hostileValue, hostileError, hostileMetric}},
		{"/api/run?id=" + failed, []string{hostileKey, hostileValue, hostileError, hostileMetric}},
		{"/api/curves?run=" + failed + "&metric=" + url.QueryEscape(hostileMetric), []string{hostileMetric}},
	}
	for _, tc := range tests {
		res, body := get(t, ts, tc.path)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", tc.path, res.StatusCode, body)
		}
		if strings.ContainsAny(string(body), "<>") {
			t.Fatalf("GET %s: body holds a raw < or >: %.300s", tc.path, body)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		text := flattenStrings(v)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Fatalf("GET %s: decoded body lacks %.60q", tc.path, w)
			}
		}
	}
}

// flattenStrings joins every string (and key) in a decoded JSON value.
func flattenStrings(v any) string {
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				b.WriteString(k + "\n")
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

// TestBrowserHostile loads every page over the hostile grid: the strings
// show as text, nothing they carry runs or becomes an element, there is no
// console error (a CSP refusal would be one), and the long ones do not
// widen the page.
func TestBrowserHostile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := chromium.MustStart(t, ctx)
	db, failed := mustHostileDB(t)
	ts, _ := mustServe(t, db)
	pages := []struct{ name, path, shows string }{
		{"grids", "/", hostileGrid},
		{"grid", "/grid?name=" + url.QueryEscape(hostileGrid), hostileKey},
		{"run", "/run?id=" + failed, hostileError[:60]},
		{"compare", "/compare?run=" + failed + "&run=" + strings.Repeat("b", 64), hostileValue[:20]},
	}
	for _, p := range pages {
		if _, err := b.Load(ctx, ts.URL+p.path); err != nil {
			t.Fatal(err)
		}
		shows, _ := json.Marshal(p.shows)
		ready := `JSON.stringify(document.body.textContent.includes(` + string(shows) + `))`
		if err := b.WaitFor(ctx, ready, 15*time.Second); err != nil {
			t.Fatalf("page %s: %v", p.path, err)
		}
		time.Sleep(300 * time.Millisecond) // let the page's other requests land
		var got struct {
			Pwned    bool
			Handlers []string
			Scripts  int
			Wide     bool
		}
		err := b.Eval(ctx, `JSON.stringify({
			Pwned: window.pwned !== undefined,
			Handlers: Array.from(document.querySelectorAll("*")).flatMap(e => Array.from(e.attributes).filter(a => /^on/i.test(a.name)).map(a => e.tagName + "." + a.name)),
			Scripts: Array.from(document.scripts).filter(s => !s.src.startsWith(location.origin + "/static/")).length,
			Wide: document.documentElement.scrollWidth > window.innerWidth + 2
		})`, &got)
		if err != nil {
			t.Fatal(err)
		}
		if got.Pwned || len(got.Handlers) > 0 || got.Scripts > 0 || got.Wide {
			t.Fatalf("page %s: %+v; want no injected script, handler or element and no horizontal overflow", p.path, got)
		}
		if errs := b.ConsoleErrors(); len(errs) != 0 {
			t.Fatalf("page %s logged console errors: %q", p.path, errs)
		}
		saveShot(t, ctx, b, "hostile-"+p.name)
	}
}
