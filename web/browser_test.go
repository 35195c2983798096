package web

import (
	"context"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"outerloop/chromium"
)

var shots = flag.String("shots", "", "write a screenshot of each page TestBrowserPages visits into this folder")

// page is a page a browser test visits: where, what must be true once it
// has drawn itself, and what to call its screenshot.
type visit struct {
	name, path, ready string
}

// TestBrowserPages loads every page of a trained grid in headless
// Chromium: each draws itself from the API without a console error (a
// script the CSP refused would be one), and the grid page shows its runs,
// verdict, curves and figures.
func TestBrowserPages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b := chromium.MustStart(t, ctx)
	ts, store := mustServe(t, mustTrainedDB(t))
	runs, err := store.GridRuns(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	failed := ""
	for _, r := range runs {
		if r.Status == "failed" {
			failed = r.ID
		}
	}
	visits := []visit{
		{"grids", "/", `JSON.stringify(document.querySelectorAll("#grids-table tbody tr").length === 1 &&
			document.querySelector(".verdict-line .badge.inconclusive") !== null)`},
		{"grid", "/grid?name=web", `JSON.stringify(document.querySelectorAll("#runs-table tbody tr").length === 6 &&
			document.querySelector("#claims .badge.inconclusive") !== null &&
			document.querySelectorAll("#figures figure svg").length > 0 &&
			Number(document.querySelector("#curves svg").dataset.points) > 0 &&
			Number(document.querySelector("#loops svg").dataset.points) > 0)`},
		{"run", "/run?id=" + failed, `JSON.stringify(document.getElementById("run-error") !== null &&
			document.querySelectorAll(".small-multiple svg[data-points]").length >= 1)`},
		{"compare", "/compare?run=" + runs[0].ID + "&run=" + runs[3].ID, `JSON.stringify(
			document.querySelectorAll("#config-diff tbody tr").length > 0 &&
			Number(document.querySelector("#curves svg").dataset.points) > 0)`},
	}
	for _, v := range visits {
		errs, err := b.Load(ctx, ts.URL+v.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.WaitFor(ctx, v.ready, 20*time.Second); err != nil {
			var text string
			_ = b.Eval(ctx, `JSON.stringify(document.body.innerText)`, &text)
			t.Fatalf("page %s: %v\npage text:\n%s", v.name, err, text)
		}
		if errs = append(errs, b.ConsoleErrors()...); len(errs) != 0 {
			t.Fatalf("page %s logged console errors: %q", v.name, errs)
		}
		saveShot(t, ctx, b, v.name)
	}
}

// saveShot writes the page's screenshot into -shots, if given.
func saveShot(t *testing.T, ctx context.Context, b *chromium.Browser, name string) {
	t.Helper()
	if *shots == "" {
		return
	}
	png, err := b.Screenshot(ctx)
	if err == nil {
		err = os.WriteFile(filepath.Join(*shots, "webtest-"+name+".png"), png, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

var _ = url.QueryEscape
