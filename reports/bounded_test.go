package reports

import (
	"math"
	"strings"
	"testing"
)

func TestSummarizeProportion(t *testing.T) {
	many := make([]float64, 30)
	for i := range many {
		many[i] = 0.5 + noise(int64(i), 1, 0.05)
	}
	tests := []struct {
		name   string
		xs     []float64
		method string
		// tLeaves says the t interval of xs leaves [0, 1].
		tLeaves bool
	}{
		// The demo's 95% t interval was [0.7262, 1.016].
		{"near 1, three seeds", []float64{0.81, 0.88, 0.925}, "wilson", true},
		{"two seeds far apart", []float64{0.2, 0.9}, "wilson", true},
		{"near 0 with a failed seed", []float64{0.285, 0.172, 0.012}, "wilson", true},
		{"mid-range, many seeds", many, "wilson", false},
		{"all zero", []float64{0, 0, 0}, "wilson", false},
		{"not proportions", []float64{1, 2, 3}, "t", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ts := SummarizeProportion(tt.xs), Summarize(tt.xs)
			if got.Method != tt.method || got.Mean != ts.Mean || got.SD != ts.SD {
				t.Fatalf("summary %+v, want method %s with the t summary's mean and sd", got, tt.method)
			}
			if leaves := ts.Lo < 0 || ts.Hi > 1; leaves != tt.tLeaves {
				t.Fatalf("t interval [%v, %v] leaves [0, 1]: %v, want %v", ts.Lo, ts.Hi, leaves, tt.tLeaves)
			}
			if tt.method == "t" {
				return
			}
			if got.Lo < 0 || got.Hi > 1 || !(got.Lo <= got.Mean && got.Mean <= got.Hi) {
				t.Fatalf("interval [%v, %v], want it inside [0, 1] and around the mean %v", got.Lo, got.Hi, got.Mean)
			}
		})
	}
	// Far from the bounds with many seeds it is the t interval.
	w, ts := SummarizeProportion(many), Summarize(many)
	if !near(w.Lo, ts.Lo, 1e-3) || !near(w.Hi, ts.Hi, 1e-3) {
		t.Fatalf("wilson [%v, %v], want the t interval [%v, %v] within 1e-3", w.Lo, w.Hi, ts.Lo, ts.Hi)
	}
}

func TestBoundedCI(t *testing.T) {
	tests := []struct {
		name                   string
		est, se, df, lo, hi    float64
		wantLo, wantHi, within float64
	}{
		// Wilson with n = 0.25/0.05² = 100 and z = 1.96: the textbook
		// interval for 50 of 100, [0.4038, 0.5962].
		{"textbook Wilson", 0.5, 0.05, 1e9, 0, 1, 0.4038, 0.5962, 1e-4},
		// The same on [−1, 1]: a difference of 0 with se 0.1.
		{"difference at zero", 0, 0.1, 1e9, -1, 1, -0.1924, 0.1924, 1e-4},
		{"zero spread", 0.3, 0, 2, 0, 1, 0.3, 0.3, 0},
		{"no spread known", 0.3, math.NaN(), 2, 0, 1, math.NaN(), math.NaN(), 0},
	}
	for _, tt := range tests {
		lo, hi := BoundedCI(tt.est, tt.se, tt.df, 0.95, tt.lo, tt.hi)
		if !near(lo, tt.wantLo, tt.within) || !near(hi, tt.wantHi, tt.within) {
			t.Fatalf("%s: [%v, %v], want [%v, %v]", tt.name, lo, hi, tt.wantLo, tt.wantHi)
		}
	}
	// A large difference with few pairs: t leaves [−1, 1], the bounded
	// interval does not.
	e := PairedDiff([]float64{1, 0.9, 0.95}, []float64{0, 0.3, 0.05})
	tLo, tHi := e.CI(0.9)
	lo, hi := effectCI("exact_accuracy", e, 0.9)
	if tHi <= 1 || lo < -1 || hi > 1 || !(lo < e.Diff && e.Diff < hi) {
		t.Fatalf("t [%v, %v], bounded [%v, %v], want t beyond 1 and bounded inside [−1, 1] around %v", tLo, tHi, lo, hi, e.Diff)
	}
}

func TestFiguresOfProportionsStayInUnitInterval(t *testing.T) {
	// Two seeds near the top: the t quantile at 1 df (12.7) put the error
	// bars of issue 16's figure at −0.4 to 1.2.
	d := loopsGrid([]int{1, 2, 4}, []string{"hrm"}, seeds2, func(core string, loops int, seed int64) float64 {
		return 0.85 + 0.03*float64(loops/2) + noise(seed, loops, 0.05)
	})
	var top []float64
	for _, r := range d.Runs {
		if r.Config.Train.Loops == 4 {
			top = append(top, r.Evals["exact_accuracy"][4])
		}
	}
	if ts := Summarize(top); ts.Hi <= 1 {
		t.Fatalf("t interval of %v is [%v, %v], want it beyond 1 for the test to mean anything", top, ts.Lo, ts.Hi)
	}
	rep := MustBuild(t, d)
	n := 0
	for _, f := range rep.Figures {
		if !strings.HasPrefix(f.Name, "accuracy-vs-") {
			continue
		}
		n++
		if y := f.plot.Y; y.Min < 0 || y.Max > 1 {
			t.Fatalf("%s: y axis [%v, %v], want inside [0, 1]", f.Name, y.Min, y.Max)
		}
		if !strings.Contains(f.Caption, "Wilson score interval") {
			t.Fatalf("%s caption %q does not name its interval", f.Name, f.Caption)
		}
	}
	if n < 2 {
		t.Fatalf("%d accuracy figures, want the training- and inference-loop ones", n)
	}
}
