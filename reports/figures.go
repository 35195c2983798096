package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one plot of a report. It is built from Data alone, so the same
// data always renders the same bytes.
type Figure struct {
	// Name is the file stem: Name.svg and Name.png.
	Name    string
	Title   string
	Caption string
	// Notes name the runs or points that are missing from the plot and why
	// (failed, diverged, no value), so nothing disappears silently.
	Notes []string
	plot  *plot.Plot
	// legend is drawn in a strip below the plot rather than over the data,
	// where a dozen long configuration labels would hide the lines.
	legend plot.Legend
}

// newFigure takes the legend entries the builder added to p and moves them
// below the plot.
func newFigure(name, title, caption string, notes []string, p *plot.Plot) Figure {
	leg := p.Legend
	p.Legend = plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(10)
	return Figure{Name: name, Title: title, Caption: caption, Notes: notes, plot: p, legend: leg}
}

// legendHeight is the height of the strip below the plot.
func (f Figure) legendHeight() vg.Length {
	h := f.legend.Rectangle(draw.Canvas{}).Size().Y
	if h == 0 {
		return 0
	}
	return h + vg.Points(8)
}

// Figure sizes, in the proportions of a paper column figure.
const (
	figureWidth  = 6 * vg.Inch
	figureHeight = 4 * vg.Inch
)

// SVG renders the figure as SVG.
func (f Figure) SVG() ([]byte, error) { return f.render("svg") }

// PNG renders the figure as PNG.
func (f Figure) PNG() ([]byte, error) { return f.render("png") }

func (f Figure) render(format string) ([]byte, error) {
	strip := f.legendHeight()
	c, err := draw.NewFormattedCanvas(figureWidth, figureHeight+strip, format)
	if err != nil {
		return nil, fmt.Errorf("render %s as %s: %w", f.Name, format, err)
	}
	dc := draw.New(c)
	f.plot.Draw(draw.Crop(dc, 0, 0, strip, 0))
	f.legend.Draw(draw.Crop(dc, vg.Points(40), 0, 0, -figureHeight))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render %s as %s: %w", f.Name, format, err)
	}
	return buf.Bytes(), nil
}

// writeFiles writes Name.svg and Name.png into dir.
func (f Figure) writeFiles(dir string) error {
	for _, format := range []string{"svg", "png"} {
		b, err := f.render(format)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, f.Name+"."+format)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return fmt.Errorf("write figure %s: %w", path, err)
		}
	}
	return nil
}

// newPlot returns a plot with the house style: title, axis labels and a grid.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// stat is one plotted point: the mean across seeds at X with its interval.
type stat struct {
	X float64
	Summary
}

// errPoints adapts stats to plotter's XYer and YErrorer.
type errPoints []stat

func (e errPoints) Len() int                    { return len(e) }
func (e errPoints) XY(i int) (float64, float64) { return e[i].X, e[i].Mean }
func (e errPoints) YError(i int) (float64, float64) {
	if e[i].N < 2 {
		return 0, 0
	}
	return e[i].Mean - e[i].Lo, e[i].Hi - e[i].Mean
}

// addSeries draws one mean line with markers and 95% error bars in the i-th
// house colour. Points without a finite mean are left out by the caller.
func addSeries(p *plot.Plot, i int, name string, pts []stat) error {
	if len(pts) == 0 {
		return nil
	}
	line, scatter, err := plotter.NewLinePoints(errPoints(pts))
	if err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	line.Color, line.Dashes = palette(i), plotutil.Dashes(i)
	scatter.Color, scatter.Shape = palette(i), plotutil.Shape(i)
	bars, err := plotter.NewYErrorBars(errPoints(pts))
	if err != nil {
		return fmt.Errorf("plot %s error bars: %w", name, err)
	}
	bars.Color = palette(i)
	p.Add(line, scatter, bars)
	p.Legend.Add(name, line, scatter)
	return nil
}

// points turns values of metric per x into plotted means with the
// interval the metric's range calls for (inside [0, 1] for proportions),
// noting x values where every value is missing and where a single value
// leaves no interval.
func points(byX map[float64][]float64, metric, what string, notes *[]string) []stat {
	var out []stat
	for _, x := range sortedKeys(byX) {
		s := summarizeMetric(metric, byX[x])
		switch {
		case s.N == 0:
			*notes = append(*notes, fmt.Sprintf("%s at %g: no usable run, not plotted", what, x))
			continue
		case s.N == 1:
			*notes = append(*notes, fmt.Sprintf("%s at %g: one run, no interval", what, x))
		}
		out = append(out, stat{X: x, Summary: s})
	}
	return out
}

// spread offsets line i of n sideways by a few percent on a log axis, so
// error bars of lines at the same x do not hide each other.
func spread(pts []stat, i, n int) []stat {
	out := make([]stat, len(pts))
	shift := math.Pow(2, 0.04*(float64(i)-float64(n-1)/2))
	for j, p := range pts {
		out[j] = p
		out[j].X = p.X * shift
	}
	return out
}

// palette is the i-th house colour, from the ten of Tableau 10, which stay
// distinct for most colour vision; plotutil's seven repeat too soon for a
// grid's configurations.
func palette(i int) color.NRGBA {
	return [...]color.NRGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
		{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
		{0x9c, 0x75, 0x5f, 0xff}, {0xba, 0xb0, 0xac, 0xff},
	}[i%10]
}

// padLog widens a log axis by a fifth on each side so nudged points and
// error bars at the ends are not clipped.
// levels give the range when nothing is plotted yet (every run pending or
// failed): a log axis over [0, 0] cannot be drawn.
func padLog(a *plot.Axis, levels []float64) {
	if (a.Min <= 0 || a.Max <= 0) && len(levels) > 0 {
		a.Min, a.Max = slices.Min(levels), slices.Max(levels)
	}
	if a.Min <= 0 || a.Max <= 0 {
		a.Min, a.Max = 1, 10
	}
	a.Min, a.Max = a.Min/1.2, a.Max*1.2
}

// logTicks labels a log axis at 1, 2 and 5 × 10^k, which suits FLOP counts
// spanning one or two decades where plot.LogTicks labels a single power.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for k := math.Floor(math.Log10(lo)); k <= math.Ceil(math.Log10(hi)); k++ {
		base := math.Pow(10, k)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = fmt.Sprintf("%de%d", m, int(k))
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// plainTicks is plot.DefaultTicks with labels in their shortest form, so
// steps read 250 rather than 250.00.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', -1, 64)
		}
	}
	return ticks
}

// powersOfTwoTicks labels a log axis at the given values only.
func powersOfTwoTicks(values []float64) plot.ConstantTicks {
	var ticks plot.ConstantTicks
	for _, v := range values {
		ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
	}
	return ticks
}

// includeZero widens the Y range to start at 0, so accuracy differences are
// not exaggerated by a cropped axis.
func includeZero(p *plot.Plot) {
	p.Y.Min = math.Min(p.Y.Min, 0)
}

// band fills the range between lo and hi along xs in a light version of the
// i-th colour.
func band(p *plot.Plot, i int, xs, lo, hi []float64) error {
	if len(xs) < 2 {
		return nil
	}
	var ring plotter.XYs
	for j := range xs {
		ring = append(ring, plotter.XY{X: xs[j], Y: hi[j]})
	}
	for j := len(xs) - 1; j >= 0; j-- {
		ring = append(ring, plotter.XY{X: xs[j], Y: lo[j]})
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return fmt.Errorf("plot band: %w", err)
	}
	light := palette(i)
	light.A = 60
	poly.Color = light
	poly.LineStyle.Width = 0
	p.Add(poly)
	return nil
}

var unsafeName = regexp.MustCompile(`[^a-z0-9.]+`)

// slug turns a label into a file-name part: "model.core=hrm" → "model.core-hrm".
func slug(s string) string {
	return strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// missing describes runs of a line that gave no value, for a figure note.
func missing(line string, excl []Exclusion) string {
	reasons := make([]string, len(excl))
	for i, e := range excl {
		reasons[i] = shortID(e.RunID) + " " + e.Reason
	}
	sort.Strings(reasons)
	return fmt.Sprintf("%s: %d run(s) not plotted: %s", line, len(excl), strings.Join(reasons, "; "))
}

// shortID is the display form of a run id (the first 8 hex digits).
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// dagger marks a legend entry whose line lacks some runs.
func dagger(name string, incomplete bool) string {
	if incomplete {
		return name + " †"
	}
	return name
}
