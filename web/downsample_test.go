package web

import (
	"math"
	"testing"
)

func line(ys ...float64) []Point {
	pts := make([]Point, len(ys))
	for i, y := range ys {
		pts[i] = Point{X: float64(i), Y: y}
	}
	return pts
}

func TestDownsample(t *testing.T) {
	nan := math.NaN()
	long := make([]float64, 10000)
	for i := range long {
		long[i] = float64(i % 7)
	}
	long[4321] = 100 // a spike a stride would miss
	long[8765] = -50 // and a dip
	tests := []struct {
		name string
		in   []Point
		n    int
		want func([]Point) string // "" when fine
	}{
		{"short is unchanged", line(1, 2, 3), 10, func(p []Point) string { return expectLen(p, 3) }},
		{"at most n", line(long...), 1000, func(p []Point) string { return atMost(p, 1000) }},
		{"keeps the ends", line(long...), 100, func(p []Point) string {
			if p[0].X != 0 || p[len(p)-1].X != 9999 {
				return "first or last point dropped"
			}
			return ""
		}},
		{"keeps a spike and a dip", line(long...), 100, func(p []Point) string {
			return has(p, 4321, 100) + has(p, 8765, -50)
		}},
		{"keeps divergence", line(append(append([]float64{}, long[:5000]...), nan)...), 50, func(p []Point) string {
			if !math.IsNaN(p[len(p)-1].Y) {
				return "the NaN at the end is gone"
			}
			return ""
		}},
		{"in order", line(long...), 300, func(p []Point) string {
			for i := 1; i < len(p); i++ {
				if p[i].X <= p[i-1].X {
					return "points out of order"
				}
			}
			return ""
		}},
	}
	for _, tc := range tests {
		if msg := tc.want(Downsample(tc.in, tc.n)); msg != "" {
			t.Fatalf("%s: %s", tc.name, msg)
		}
	}
}

func expectLen(p []Point, n int) string {
	if len(p) != n {
		return "wrong length"
	}
	return ""
}

func atMost(p []Point, n int) string {
	if len(p) > n || len(p) < n/2 {
		return "length out of range"
	}
	return ""
}

func has(p []Point, x, y float64) string {
	for _, q := range p {
		if q.X == x && q.Y == y {
			return ""
		}
	}
	return "missing an extreme point"
}

func TestPointJSON(t *testing.T) {
	tests := []struct {
		p    Point
		want string
	}{
		{Point{X: 3, Y: 0.5}, `[3,0.5]`},
		{Point{X: 1e6, Y: math.NaN()}, `[1e+06,"NaN"]`},
		{Point{X: 2, Y: math.Inf(-1)}, `[2,"-Inf"]`},
	}
	for _, tc := range tests {
		got, err := tc.p.MarshalJSON()
		if err != nil || string(got) != tc.want {
			t.Fatalf("%v encodes as %s (%v), want %s", tc.p, got, err, tc.want)
		}
	}
}
