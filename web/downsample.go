package web

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Point is one value of a curve: a metric at a training step, or an
// evaluation at an inference-loop count.
type Point struct {
	X float64
	Y float64 // NaN and ±Inf are kept: a diverged loss is worth seeing
}

// MarshalJSON writes the point as [x, y], the shape the scripts plot.
func (p Point) MarshalJSON() ([]byte, error) {
	y, err := num(p.Y).MarshalJSON()
	if err != nil {
		return nil, err
	}
	b := append([]byte{'['}, strconv.FormatFloat(p.X, 'g', -1, 64)...)
	b = append(append(b, ','), y...)
	return append(b, ']'), nil
}

// UnmarshalJSON reads [x, y] as MarshalJSON writes it.
func (p *Point) UnmarshalJSON(b []byte) error {
	var pair [2]any
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	x, ok := pair[0].(float64)
	if !ok {
		return fmt.Errorf("point %s: x is not a number", b)
	}
	p.X, p.Y = x, math.NaN()
	switch y := pair[1].(type) {
	case float64:
		p.Y = y
	case string:
		if v, err := strconv.ParseFloat(y, 64); err == nil {
			p.Y = v
		}
	}
	return nil
}

// Downsample returns at most n of pts (n ≥ 4), in order. It keeps the first
// and last point and, from each of (n-2)/2 equal runs of points between
// them, the lowest and the highest, so a spike or a dip survives that an
// average or a stride would hide. A run holding a non-finite value keeps
// its first one, so divergence stays visible. pts is returned as is when
// it is short enough.
func Downsample(pts []Point, n int) []Point {
	n = max(n, 4)
	if len(pts) <= n {
		return pts
	}
	inner := pts[1 : len(pts)-1]
	buckets := (n - 2) / 2
	out := make([]Point, 0, n)
	out = append(out, pts[0])
	for b := range buckets {
		lo, hi := b*len(inner)/buckets, (b+1)*len(inner)/buckets
		out = appendExtremes(out, inner[lo:hi])
	}
	return append(out, pts[len(pts)-1])
}

// appendExtremes appends the bucket's lowest and highest finite points in
// step order, or its first non-finite point when it has one.
func appendExtremes(out []Point, bucket []Point) []Point {
	if len(bucket) == 0 {
		return out
	}
	lo, hi := -1, -1
	for i, p := range bucket {
		if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
			return append(out, p)
		}
		if lo < 0 || p.Y < bucket[lo].Y {
			lo = i
		}
		if hi < 0 || p.Y > bucket[hi].Y {
			hi = i
		}
	}
	switch {
	case lo == hi:
		return append(out, bucket[lo])
	case lo < hi:
		return append(out, bucket[lo], bucket[hi])
	}
	return append(out, bucket[hi], bucket[lo])
}
