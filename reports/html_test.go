package reports

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// hostileFixture puts markup into every user-provided string a report shows.
func hostileFixture() Data {
	d := outerLoopFixture()
	d.Grid.Title = `<script>alert("title")</script>`
	d.Grid.Name = `grid"><img src=x onerror=alert(1)>`
	d.Grid.Description = "line one\n<iframe src=\"https://evil.example\"></iframe>"
	d.Grid.Path = `</code><script>alert(2)</script>`
	d.Claims[0].Description = `<a href="javascript:alert(3)">click</a>`
	d.Claims[1].Within.A = `model.core=<b>hrm</b>`
	for i := range d.Runs {
		if d.Runs[i].Status == "failed" {
			d.Runs[i].Error = "</pre><script>alert(4)</script>"
		}
		if d.Runs[i].Config.Model.Core == "transformer" {
			d.Runs[i].Config.Model.Core = `<svg onload=alert(5)>`
		}
	}
	d.Provenance[0].Host = `"><script>alert(6)</script>`
	return d
}

func TestHTMLEscapesUserText(t *testing.T) {
	rep := MustBuild(t, hostileFixture())
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if got := strings.Count(page, "<script"); got != 1 {
		t.Fatalf("%d <script elements, want 1 (the table sorter)", got)
	}
	if got, want := strings.Count(page, "<svg"), len(rep.Figures); got != want {
		t.Fatalf("%d <svg elements, want %d (one per figure; a config value must not add one)", got, want)
	}
	for _, raw := range []string{"<img", "<iframe", "<b>hrm", `<a href="javascript`, "</pre><script"} {
		if strings.Contains(page, raw) {
			t.Fatalf("page contains unescaped %q", raw)
		}
	}
	for _, escaped := range []string{
		"&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;",
		"&lt;iframe",
		"&lt;/pre&gt;&lt;script&gt;alert(4)",
		"&lt;svg onload=alert(5)&gt;",
		"&lt;b&gt;hrm&lt;/b&gt;",
	} {
		if !strings.Contains(page, escaped) {
			t.Fatalf("page lacks the escaped text %q", escaped)
		}
	}
}

func TestHTMLSelfContained(t *testing.T) {
	rep := MustBuild(t, hostileFixture())
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	// The only URLs allowed are the SVG namespaces (never fetched) and text
	// the user wrote, which is escaped; anything that loads must be data:.
	withoutUserText := strings.ReplaceAll(page, `https://evil.example`, "")
	for _, u := range regexp.MustCompile(`https?://[^"' )<]+`).FindAllString(withoutUserText, -1) {
		if u != "http://www.w3.org/2000/svg" && u != "http://www.w3.org/1999/xlink" {
			t.Fatalf("page references %s", u)
		}
	}
	attr := regexp.MustCompile(`(?i)\s(?:src|href|xlink:href)\s*=\s*["']?([^"' >]*)`)
	for _, tag := range regexp.MustCompile(`<[a-zA-Z][^>]*>`).FindAllString(page, -1) {
		for _, m := range attr.FindAllStringSubmatch(tag, -1) {
			if !strings.HasPrefix(m[1], "data:") {
				t.Fatalf("tag %q loads %q; only data: URLs are allowed", tag, m[1])
			}
		}
	}
	for _, m := range regexp.MustCompile(`url\(([^)]{0,20})`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(m[1], "data:") {
			t.Fatalf("stylesheet loads url(%s…); only data: URLs are allowed", m[1])
		}
	}
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindStringSubmatch(page)
	if csp == nil || !strings.HasPrefix(html.UnescapeString(csp[1]), "default-src 'none'") ||
		!strings.Contains(html.UnescapeString(csp[1]), "script-src '"+scriptHash()+"'") {
		t.Fatalf("page lacks the content security policy that pins its script")
	}
}

func TestHTMLLayout(t *testing.T) {
	rep := MustBuild(t, outerLoopFixture())
	b, err := rep.HTML()
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	order := []string{`id="claims"`, `id="figures"`, `id="statistics"`, `id="runs"`, `id="failed"`, `id="provenance"`}
	last := -1
	for _, id := range order {
		i := strings.Index(page, id)
		if i <= last {
			t.Fatalf("section %s at %d, want after %d (order %v)", id, i, last, order)
		}
		last = i
	}
	for _, want := range []string{
		"Outer refinement loops drive accuracy",
		`<span class="badge inconclusive">inconclusive</span>`,
		`<span class="badge reproduced">reproduced</span>`,
		"train: loss is NaN at step 350",
		"24 runs: 22 done, 1 failed, 1 pending",
		"0123456789abcdef0123456789abcdef01234567</code> (dirty)",
		"2.1.0 (pre-cxx11)",
		"<th>model.core</th><th>train.loops</th>",
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<th>train.steps</th>") {
		t.Fatalf("runs table shows train.steps, which does not vary")
	}
	again, err := rep.HTML()
	if err != nil || !bytes.Equal(b, again) {
		t.Fatalf("rendering twice gave different pages (error %v)", err)
	}
}

func TestWriteHTML(t *testing.T) {
	rep := MustBuild(t, outerLoopFixture())
	path := filepath.Join(t.TempDir(), "report.html")
	if err := rep.WriteHTML(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Fatalf("read %s: %v, want an HTML document", path, err)
	}
	if err := rep.WriteHTML(filepath.Join(t.TempDir(), "missing", "report.html")); err == nil {
		t.Fatalf("WriteHTML into a missing directory succeeded, want an error")
	}
}

func TestBuildRejectsDuplicateIDs(t *testing.T) {
	d := outerLoopFixture()
	d.Runs = append(d.Runs, d.Runs[0])
	if _, err := Build(d); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Fatalf("Build with a duplicate run id: error %v, want one naming it", err)
	}
}
