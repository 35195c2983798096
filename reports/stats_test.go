package reports

import (
	"math"
	"testing"
)

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

func TestTQuantile(t *testing.T) {
	tests := []struct {
		p, df, want float64
	}{
		{0.975, 1, 12.7062},
		{0.975, 2, 4.3027},
		{0.975, 4, 2.7764},
		{0.95, 10, 1.8125},
		{0.975, 1e6, 1.9600},
		{0.975, 0, math.NaN()},
	}
	for _, tt := range tests {
		if got := TQuantile(tt.p, tt.df); !near(got, tt.want, 1e-4) {
			t.Fatalf("TQuantile(%v, %v)=%v, want %v", tt.p, tt.df, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	tests := []struct {
		name          string
		xs            []float64
		n             int
		mean, sd      float64
		lo, hi        float64
		wantIntervals bool
	}{
		{"five", []float64{1, 2, 3, 4, 5}, 5, 3, 1.58114, 1.03676, 4.96324, true},
		{"constant", []float64{0.5, 0.5, 0.5}, 3, 0.5, 0, 0.5, 0.5, true},
		{"one", []float64{0.7}, 1, 0.7, math.NaN(), math.NaN(), math.NaN(), false},
		{"none", nil, 0, math.NaN(), math.NaN(), math.NaN(), math.NaN(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.xs)
			if got.N != tt.n || !near(got.Mean, tt.mean, 1e-5) || !near(got.SD, tt.sd, 1e-5) ||
				!near(got.Lo, tt.lo, 1e-5) || !near(got.Hi, tt.hi, 1e-5) || got.Method != "t" {
				t.Fatalf("Summarize(%v)=%+v, want n=%d mean=%v sd=%v CI=[%v, %v]", tt.xs, got, tt.n, tt.mean, tt.sd, tt.lo, tt.hi)
			}
		})
	}
}

func TestPairedDiff(t *testing.T) {
	e := PairedDiff([]float64{1, 2, 3}, []float64{0, 0, 1})
	if !e.Paired || e.N != 3 || !near(e.Diff, 5.0/3, 1e-9) || !near(e.SE, 1.0/3, 1e-9) || e.DF != 2 {
		t.Fatalf("PairedDiff=%+v, want diff 1.667 se 0.333 df 2 paired", e)
	}
	// t = 5 with 2 df: P(T > 5) = (1 − 5/√27)/2.
	if got, want := e.PGreater(0), (1-5/math.Sqrt(27))/2; !near(got, want, 1e-9) {
		t.Fatalf("PGreater(0)=%v, want %v", got, want)
	}
	if got, want := e.PLess(10.0/3), (1-5/math.Sqrt(27))/2; !near(got, want, 1e-9) {
		t.Fatalf("PLess(3.333)=%v, want %v (mirror of PGreater)", got, want)
	}
	lo, hi := e.CI(0.95)
	if !near(lo, 5.0/3-4.302653/3, 1e-5) || !near(hi, 5.0/3+4.302653/3, 1e-5) {
		t.Fatalf("CI=[%v, %v], want 1.667 ± 1.434", lo, hi)
	}
}

func TestWelchDiff(t *testing.T) {
	e := WelchDiff([]float64{1, 2, 3}, []float64{4, 5, 6, 7})
	// va = 1/3, vb = (5/3)/4; df = (va+vb)² / (va²/2 + vb²/3).
	va, vb := 1.0/3, 5.0/12
	df := (va + vb) * (va + vb) / (va*va/2 + vb*vb/3)
	if e.Paired || e.N != 7 || !near(e.Diff, -3.5, 1e-12) || !near(e.SE, math.Sqrt(va+vb), 1e-12) || !near(e.DF, df, 1e-12) {
		t.Fatalf("WelchDiff=%+v, want diff -3.5 se %v df %v", e, math.Sqrt(va+vb), df)
	}
	if p := e.PGreater(0); p < 0.99 {
		t.Fatalf("PGreater(0)=%v for a clearly negative difference, want > 0.99", p)
	}
	if e := WelchDiff([]float64{1}, []float64{2, 3}); !math.IsNaN(e.SE) || !math.IsNaN(e.PGreater(0)) {
		t.Fatalf("one value on a side: %+v, want NaN SE and p", e)
	}
}

func TestPGreaterZeroSpread(t *testing.T) {
	tests := []struct {
		diff, margin, want float64
	}{
		{0.2, 0.1, 0},
		{0.1, 0.1, 1},
		{0.0, 0.1, 1},
	}
	for _, tt := range tests {
		e := Estimate{Diff: tt.diff, SE: 0, DF: 2, N: 3, Paired: true}
		if got := e.PGreater(tt.margin); got != tt.want {
			t.Fatalf("PGreater(%v) with diff %v and no spread=%v, want %v", tt.margin, tt.diff, got, tt.want)
		}
	}
}

func TestSpearman(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"monotone", []float64{1, 2, 3, 4}, []float64{10, 20, 25, 400}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		{"ties", []float64{1, 1, 2, 2}, []float64{1, 2, 3, 4}, 4 / math.Sqrt(20)},
		{"constant", []float64{1, 2, 3}, []float64{5, 5, 5}, math.NaN()},
		{"length", []float64{1, 2}, []float64{1}, math.NaN()},
	}
	for _, tt := range tests {
		if got := Spearman(tt.x, tt.y); !near(got, tt.want, 1e-12) {
			t.Fatalf("%s: Spearman=%v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTrendTest(t *testing.T) {
	tests := []struct {
		name      string
		blocks    []Block
		rho, p    float64
		minP      float64
		exact     bool
		tolerance float64
	}{
		{
			name:   "two levels of three, separated: exact p = 3!3!/6! = 0.05",
			blocks: []Block{{X: []float64{1, 1, 1, 2, 2, 2}, Y: []float64{0.1, 0.2, 0.15, 0.5, 0.6, 0.55}}},
			rho:    math.Sqrt(13.5 / 17.5), p: 0.05, minP: 0.05, exact: true,
		},
		{
			name:   "three distinct points: p = 1/6",
			blocks: []Block{{X: []float64{1, 2, 3}, Y: []float64{1, 2, 3}}},
			rho:    1, p: 1.0 / 6, minP: 1.0 / 6, exact: true,
		},
		{
			name:   "falling: p = 1",
			blocks: []Block{{X: []float64{1, 2, 3, 4}, Y: []float64{4, 3, 2, 1}}},
			rho:    -1, p: 1, minP: 1.0 / 24, exact: true,
		},
		{
			name:   "constant y: no trend, p = 1",
			blocks: []Block{{X: []float64{1, 2, 3, 4}, Y: []float64{0, 0, 0, 0}}},
			rho:    0, p: 1, minP: 1.0 / 24, exact: true,
		},
		{
			name: "two blocks of three rising: p = 1/36",
			blocks: []Block{
				{X: []float64{1, 2, 3}, Y: []float64{1, 2, 3}},
				{X: []float64{1, 2, 3}, Y: []float64{5, 6, 7}},
			},
			rho: 1, p: 1.0 / 36, minP: 1.0 / 36, exact: true,
		},
		{
			name:   "twelve rising points: sampled, p = 1/(perms+1)",
			blocks: []Block{{X: seq(12), Y: seq(12)}},
			rho:    1, p: 1.0 / 2001, minP: 1.0 / 2001, exact: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := TrendTest(tt.blocks, 2000, 1)
			if !near(got.Rho, tt.rho, 1e-9) || !near(got.P, tt.p, 1e-9) || !near(got.MinP, tt.minP, 1e-9) || got.Exact != tt.exact {
				t.Fatalf("TrendTest=%+v, want rho=%v p=%v minP=%v exact=%v", got, tt.rho, tt.p, tt.minP, tt.exact)
			}
		})
	}
}

func TestTrendTestSampledNull(t *testing.T) {
	// With no trend the sampled p-value must be far from significant, and
	// the same seed must give the same p.
	x, y := seq(12), []float64{5, 1, 9, 3, 12, 2, 8, 7, 4, 11, 6, 10}
	a, b := TrendTest([]Block{{X: x, Y: y}}, 3000, 9), TrendTest([]Block{{X: x, Y: y}}, 3000, 9)
	if a.P != b.P {
		t.Fatalf("same seed gave p=%v then %v", a.P, b.P)
	}
	if a.P < 0.1 {
		t.Fatalf("p=%v (ρ=%v) for shuffled data, want > 0.1", a.P, a.Rho)
	}
}

func TestPermutations(t *testing.T) {
	perms := permutations([]float64{1, 2, 3, 4})
	seen := map[[4]float64]bool{}
	for _, p := range perms {
		seen[[4]float64{p[0], p[1], p[2], p[3]}] = true
	}
	if len(perms) != 24 || len(seen) != 24 {
		t.Fatalf("permutations of 4: %d listed, %d distinct, want 24 and 24", len(perms), len(seen))
	}
}

func seq(n int) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	return xs
}
