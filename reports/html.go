package reports

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationserifregular"

	"outerloop/experiments"
)

//go:embed report.html.tmpl
var pageTemplate string

// sorterScript sorts a table.sortable by the clicked column, numerically
// when both cells carry numbers (data-sort, else the text).
const sorterScript = `
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.querySelectorAll("th");
  heads.forEach(function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var key = function (row) {
        var c = row.cells[col], s = c.getAttribute("data-sort");
        return s === null ? c.textContent : s;
      };
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), nx = parseFloat(x), ny = parseFloat(y);
        var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, undefined, {numeric: true});
        return asc ? r : -r;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
`

// scriptHash is the CSP source that lets exactly sorterScript run, so the
// page refuses any other script, injected or fetched.
func scriptHash() string {
	sum := sha256.Sum256([]byte(sorterScript))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// fontFace embeds the figures' font once per page: gonum lays out SVG text
// with Liberation Serif's metrics, and a browser without it substitutes a
// wider font whose labels overlap.
func fontFace() template.CSS {
	return template.CSS(`@font-face { font-family: "Liberation Serif"; src: url(data:font/ttf;base64,` +
		base64.StdEncoding.EncodeToString(liberationserifregular.TTF) + `) format("truetype"); }`)
}

// page is the template's view of a report: every string in it is user text
// that html/template escapes, except the figures' SVG, which we generate.
type page struct {
	Title, Name, Description, Path string
	Counts                         string
	Rules                          string
	Metric, At                     string
	Verdicts                       []Verdict
	Configs                        []ConfigSummary
	Figures                        []figureView
	Columns, MetricColumns         []string
	Runs                           []runRow
	Failed                         []Run
	Provenance                     []Provenance
	Script                         template.JS
	ScriptHash                     string
	FontFace                       template.CSS
}

type figureView struct {
	Figure
	SVG template.HTML
}

type runRow struct {
	ID, Seed, Status string
	Config           []string
	Metrics          []cell
	FLOPs, Wall      cell
}

// cell is a table value with the number the sorter orders it by.
type cell struct{ Text, Sort string }

// HTML renders the report as one self-contained page: figures inline as SVG,
// styles and the table sorter inline, nothing fetched.
func (rep *Report) HTML() ([]byte, error) {
	tmpl, err := template.New("report").Funcs(template.FuncMap{
		"num":     fmtNum,
		"pvalue":  fmtPValue,
		"short":   shortID,
		"outcome": outcomeClass,
		"ci":      fmtCI,
		"pct":     func(level float64) string { return strconv.FormatFloat(100*level, 'g', 3, 64) + "%" },
		"label":   func(r Run) string { return label(r, rep.Data.varying()) },
	}).Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("parse report template: %w", err)
	}
	pg, err := rep.page()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, pg); err != nil {
		return nil, fmt.Errorf("render report %s: %w", rep.Data.Grid.Name, err)
	}
	return buf.Bytes(), nil
}

func (rep *Report) page() (page, error) {
	d := rep.Data
	pg := page{
		Title: d.Grid.Title, Name: d.Grid.Name, Description: d.Grid.Description, Path: d.Grid.Path,
		Counts: statusCounts(d.Runs),
		Rules:  rep.Rules.String(),
		Metric: rep.Metric, At: rep.At,
		Verdicts: rep.Verdicts, Configs: rep.Configs, Provenance: d.Provenance,
		Columns: d.varying(),
		Script:  template.JS(sorterScript), ScriptHash: scriptHash(),
		FontFace: fontFace(),
	}
	if pg.Title == "" {
		pg.Title = d.Grid.Name
	}
	for _, f := range rep.Figures {
		svg, err := f.SVG()
		if err != nil {
			return page{}, err
		}
		pg.Figures = append(pg.Figures, figureView{Figure: f, SVG: template.HTML(inlineSVG(svg))})
	}
	pg.MetricColumns = evalMetrics(d.Runs)
	hasLoss := false
	for _, r := range d.Runs {
		hasLoss = hasLoss || len(r.Curves["loss"]) > 0
	}
	if hasLoss {
		pg.MetricColumns = append(pg.MetricColumns, "final loss")
	}
	for _, r := range d.Runs {
		pg.Runs = append(pg.Runs, rep.row(r, pg.Columns, pg.MetricColumns))
		if r.Status != StatusDone && r.Status != "pending" && r.Status != "running" {
			pg.Failed = append(pg.Failed, r)
		}
	}
	return pg, nil
}

func (rep *Report) row(r Run, columns, metrics []string) runRow {
	row := runRow{ID: r.ID, Seed: strconv.FormatInt(r.Config.Seed, 10), Status: r.Status}
	for _, k := range columns {
		row.Config = append(row.Config, configText(r, k))
	}
	for _, m := range metrics {
		v := math.NaN()
		if m == "final loss" {
			if pts := r.Curves["loss"]; len(pts) > 0 {
				v = pts[len(pts)-1].Value
			}
		} else if y, err := r.value(m, experiments.Claim{}); err == nil && len(r.Evals[m]) > 0 {
			// Only a final evaluation fills these columns, never the last
			// training-curve value of the same name.
			v = y
		}
		row.Metrics = append(row.Metrics, numCell(v))
	}
	row.FLOPs, row.Wall = numCell(r.TrainFLOPs), numCell(r.WallSeconds)
	if r.TrainFLOPs == 0 {
		row.FLOPs = cell{Text: "—"}
	}
	if r.WallSeconds == 0 {
		row.Wall = cell{Text: "—"}
	}
	return row
}

func numCell(v float64) cell {
	if math.IsNaN(v) {
		return cell{Text: "—"}
	}
	return cell{Text: fmtNum(v), Sort: strconv.FormatFloat(v, 'g', -1, 64)}
}

// evalMetrics lists the evaluated metrics of all runs, by name.
func evalMetrics(runs []Run) []string {
	seen := map[string]bool{}
	for _, r := range runs {
		for m := range r.Evals {
			seen[m] = true
		}
	}
	names := make([]string, 0, len(seen))
	for m := range seen {
		names = append(names, m)
	}
	sort.Strings(names)
	return names
}

// statusCounts is "24 runs: 22 done, 1 failed, 1 pending".
func statusCounts(runs []Run) string {
	counts := map[string]int{}
	for _, r := range runs {
		counts[r.Status]++
	}
	var parts []string
	for _, s := range sortedLabels(counts) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return fmt.Sprintf("%d runs: %s", len(runs), strings.Join(parts, ", "))
}

var svgProlog = regexp.MustCompile(`(?s)^.*?(<svg[ >])`)

// inlineSVG strips the XML declaration and comment gonum writes before the
// <svg> element, which are not allowed inside HTML.
func inlineSVG(b []byte) string {
	return svgProlog.ReplaceAllString(string(b), "$1")
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'g', -1, 64)
	case v != 0 && (math.Abs(v) >= 1e5 || math.Abs(v) < 1e-3):
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func fmtPValue(p float64) string {
	if math.IsNaN(p) {
		return "p = —"
	}
	return fmtP(p)
}

func fmtCI(lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "—"
	}
	return "[" + fmtNum(lo) + ", " + fmtNum(hi) + "]"
}

func outcomeClass(o Outcome) string { return strings.ReplaceAll(string(o), " ", "-") }
