package reports

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// MustBuild builds the report of d or fails the test.
func MustBuild(tb testing.TB, d Data) *Report {
	tb.Helper()
	rep, err := Build(d)
	if err != nil {
		tb.Fatalf("Build: %v", err)
	}
	return rep
}

func TestFiguresGolden(t *testing.T) {
	rep := MustBuild(t, outerLoopFixture())
	var names []string
	for _, f := range rep.Figures {
		names = append(names, f.Name)
	}
	want := []string{
		"accuracy-vs-train-loops",
		"accuracy-vs-inference-loops-model.core-hrm",
		"accuracy-vs-inference-loops-model.core-transformer",
		"accuracy-vs-flops",
		"learning-curve-exact-accuracy",
		"learning-curve-loss",
		"halting-segments",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("figures=%v, want %v", names, want)
	}
	for _, f := range rep.Figures {
		t.Run(f.Name, func(t *testing.T) {
			svg, err := f.SVG()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", f.Name+".svg.golden")
			if *update {
				if err := os.WriteFile(golden, svg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantSVG, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(svg, wantSVG) {
				t.Fatalf("%s differs from %s (%d vs %d bytes); inspect and run go test -update if the change is intended", f.Name, golden, len(svg), len(wantSVG))
			}
			b, err := f.PNG()
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("decode PNG: %v", err)
			}
			if got := img.Bounds().Size(); got.X != 576 || got.Y <= 384 {
				t.Fatalf("PNG size %v, want 576 wide (6 in at 96 dpi) and taller than 384 (4 in plus the legend)", got)
			}
		})
	}
}

func TestFiguresDeterministic(t *testing.T) {
	a, b := MustBuild(t, outerLoopFixture()), MustBuild(t, outerLoopFixture())
	for i := range a.Figures {
		for _, render := range []func(Figure) ([]byte, error){Figure.SVG, Figure.PNG} {
			x, err1 := render(a.Figures[i])
			y, err2 := render(b.Figures[i])
			if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
				t.Fatalf("%s rendered differently from the same data (errors %v, %v)", a.Figures[i].Name, err1, err2)
			}
		}
	}
}

func TestFiguresShowMissingRuns(t *testing.T) {
	rep := MustBuild(t, outerLoopFixture())
	byName := map[string]Figure{}
	for _, f := range rep.Figures {
		byName[f.Name] = f
	}
	tests := []struct {
		figure, note, legend string
	}{
		{"accuracy-vs-train-loops", "model.core=hrm: 1 run(s) not plotted: h0803caf status failed: train: loss is NaN at step 350", "model.core=hrm †"},
		{"accuracy-vs-train-loops", "model.core=transformer: 1 run(s) not plotted: t0103caf status pending", "model.core=transformer †"},
		{"learning-curve-loss", "model.core=hrm, train.loops=8: run h0803caf (seed 3) diverged at step 350 (loss = NaN); drawn up to there", "model.core=hrm, train.loops=8 †"},
		{"accuracy-vs-flops", "train.loops=8, model.core=hrm: 1 run(s) not plotted", "train.loops=8 †"},
	}
	for _, tt := range tests {
		f := byName[tt.figure]
		if !strings.Contains(strings.Join(f.Notes, "\n"), tt.note) {
			t.Fatalf("%s notes=%q, want one containing %q", tt.figure, f.Notes, tt.note)
		}
		svg, err := f.SVG()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(svg), tt.legend) {
			t.Fatalf("%s legend lacks %q", tt.figure, tt.legend)
		}
	}
}

func TestFiguresWithoutData(t *testing.T) {
	d := Data{Grid: GridInfo{Name: "empty"}, Runs: []Run{{ID: "a", Status: "pending", Config: runConfig("hrm", 1, 1, 1)}}}
	rep := MustBuild(t, d)
	if len(rep.Figures) != 0 {
		t.Fatalf("%d figures from a grid with no results, want 0", len(rep.Figures))
	}
}

// TestFiguresBeforeAnyRunFinished draws the figures of a grid whose runs
// are all pending: the log axes have no data to span yet and must still
// render (they panicked inside gonum/plot).
func TestFiguresBeforeAnyRunFinished(t *testing.T) {
	d := outerLoopFixture()
	for i := range d.Runs {
		d.Runs[i].Status, d.Runs[i].Evals, d.Runs[i].Curves = "pending", nil, nil
	}
	for _, f := range MustBuild(t, d).Figures {
		if _, err := f.SVG(); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
}

func TestWriteFigures(t *testing.T) {
	rep := MustBuild(t, outerLoopFixture())
	dir := filepath.Join(t.TempDir(), "figures")
	if err := rep.WriteFigures(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Figures {
		for _, ext := range []string{".svg", ".png"} {
			info, err := os.Stat(filepath.Join(dir, f.Name+ext))
			if err != nil || info.Size() == 0 {
				t.Fatalf("%s%s: %v (size %v), want a non-empty file", f.Name, ext, err, info)
			}
		}
	}
}
