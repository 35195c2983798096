package reports

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outerloop/chromium"
)

var screenshotCopy = flag.String("screenshot", "", "also write TestBrowser's screenshot to this path")

// TestBrowser loads a report in headless Chromium (package chromium): no
// console errors, every figure laid out with its font, the sort script
// allowed by the page's CSP, and a full-page screenshot in the test's temp
// dir.
func TestBrowser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := chromium.MustStart(t, ctx)
	dir := t.TempDir()
	rep := MustBuild(t, outerLoopFixture())
	report := filepath.Join(dir, "report.html")
	if err := rep.WriteHTML(report); err != nil {
		t.Fatal(err)
	}
	control := filepath.Join(dir, "control.html")
	if err := os.WriteFile(control, []byte(`<!DOCTYPE html><title>c</title><script>console.error("control error")</script>`), 0o644); err != nil {
		t.Fatal(err)
	}

	// The control page proves console errors would be seen.
	if errs := mustLoad(t, ctx, b, control); len(errs) != 1 || !strings.Contains(errs[0], "control error") {
		t.Fatalf("control page errors=%q, want the one it logs", errs)
	}
	if errs := mustLoad(t, ctx, b, report); len(errs) != 0 {
		t.Fatalf("report logged console errors: %q", errs)
	}

	var figures []struct {
		W, H  float64
		Paths int
	}
	mustEval(t, ctx, b, `JSON.stringify(Array.from(document.querySelectorAll("figure svg")).map(s => {
		const r = s.getBoundingClientRect();
		return {W: r.width, H: r.height, Paths: s.querySelectorAll("path").length};
	}))`, &figures)
	if len(figures) != len(rep.Figures) {
		t.Fatalf("%d figures in the page, want %d", len(figures), len(rep.Figures))
	}
	for i, f := range figures {
		if f.W < 300 || f.H < 200 || f.Paths < 20 {
			t.Fatalf("figure %s laid out %vx%v with %d paths, want at least 300x200 and 20 paths", rep.Figures[i].Name, f.W, f.H, f.Paths)
		}
	}
	var fontLoaded bool
	mustEval(t, ctx, b, `document.fonts.ready.then(() => JSON.stringify(
		Array.from(document.fonts).some(f => f.family.includes("Liberation Serif") && f.status === "loaded")))`, &fontLoaded)
	if !fontLoaded {
		t.Fatalf("the embedded Liberation Serif font did not load")
	}

	shot := mustScreenshot(t, ctx, b, filepath.Join(dir, "shot.png"))
	t.Logf("screenshot: %s", shot)
	if *screenshotCopy != "" {
		data, err := os.ReadFile(shot)
		if err == nil {
			err = os.WriteFile(*screenshotCopy, data, 0o644)
		}
		if err != nil {
			t.Fatalf("copy screenshot: %v", err)
		}
	}

	// Two clicks on the seed column sort it descending: the inline script
	// ran, so its CSP hash matches.
	var seeds string
	mustEval(t, ctx, b, `(() => {
		const table = document.getElementById("runs-table");
		const th = table.querySelectorAll("th")[1];
		th.click(); th.click();
		return JSON.stringify(th.getAttribute("aria-sort") + ":" + Array.from(table.tBodies[0].rows).map(r => r.cells[1].textContent).join(""));
	})()`, &seeds)
	if want := "descending:" + strings.Repeat("3", 8) + strings.Repeat("2", 8) + strings.Repeat("1", 8); seeds != want {
		t.Fatalf("after sorting by seed: %q, want %q", seeds, want)
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Fatalf("console errors after interaction: %q", errs)
	}
}

// mustLoad opens a file in the browser and returns its console errors.
func mustLoad(t *testing.T, ctx context.Context, b *chromium.Browser, path string) []string {
	t.Helper()
	errs, err := b.Load(ctx, "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func mustEval(t *testing.T, ctx context.Context, b *chromium.Browser, expr string, out any) {
	t.Helper()
	if err := b.Eval(ctx, expr, out); err != nil {
		t.Fatal(err)
	}
}

// mustScreenshot captures the whole page as PNG into path.
func mustScreenshot(t *testing.T, ctx context.Context, b *chromium.Browser, path string) string {
	t.Helper()
	data, err := b.Screenshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X < 1000 || got.Y < 2000 {
		t.Fatalf("screenshot %v, want the full page (≥ 1000×2000)", got)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
