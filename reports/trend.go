package reports

import (
	"math"
	"sort"
)

// Spearman is the rank correlation of x and y (average ranks for ties); NaN
// when either is constant or they differ in length.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) || len(x) < 2 {
		return math.NaN()
	}
	return pearson(ranks(x), ranks(y))
}

// ranks gives 1-based ranks, ties sharing their average rank.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	mx, my := mean(x), mean(y)
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Block is a set of (x, y) observations whose y values are exchangeable
// under "no trend": all runs of one configuration along a config axis, or
// one run's accuracy at each inference-loop count.
type Block struct{ X, Y []float64 }

// Trend is the result of a one-sided permutation test for a rising trend.
type Trend struct {
	// Rho is the mean Spearman correlation over blocks (a block whose x or y
	// is constant counts as 0: no trend).
	Rho float64
	// P is the one-sided p-value of Rho under permutations of y within
	// blocks.
	P float64
	// MinP is the smallest p the design allows: the chance that a random
	// permutation orders every block perfectly given the ties in x. When it
	// exceeds α the test cannot succeed whatever the data.
	MinP float64
	// Exact says P came from enumerating every permutation rather than
	// sampling Permutations of them.
	Exact        bool
	Permutations int
}

// exactLimit bounds full enumeration; above it the test samples.
const exactLimit = 50000

// TrendTest tests whether y rises with x, permuting y within each block.
// Small designs are enumerated exactly, so their p-values are exact and
// reject at p ≤ α with size ≤ α; larger ones use perms seeded permutations
// and p = (k+1)/(perms+1).
func TrendTest(blocks []Block, perms int, seed uint64) Trend {
	rx := make([][]float64, len(blocks))
	ry := make([][]float64, len(blocks))
	total, minP := 1.0, designMinP(blocks)
	for i, b := range blocks {
		rx[i], ry[i] = ranks(b.X), ranks(b.Y)
		total *= factorial(len(b.X))
	}
	observed := blockMean(rx, ry)
	t := Trend{Rho: observed, MinP: minP}
	if len(blocks) == 0 {
		t.Rho, t.P = math.NaN(), math.NaN()
		return t
	}
	const eps = 1e-12
	if total <= exactLimit {
		t.Exact = true
		t.Permutations = int(total)
		atLeast := 0
		forEachPermutation(ry, func(perm [][]float64) {
			if blockMean(rx, perm) >= observed-eps {
				atLeast++
			}
		})
		t.P = float64(atLeast) / total
		return t
	}
	t.Permutations = perms
	rng := newSplitMix(seed)
	shuffled := make([][]float64, len(ry))
	for i := range ry {
		shuffled[i] = append([]float64(nil), ry[i]...)
	}
	atLeast := 0
	for range perms {
		for _, s := range shuffled {
			for i := len(s) - 1; i > 0; i-- {
				j := rng.intn(i + 1)
				s[i], s[j] = s[j], s[i]
			}
		}
		if blockMean(rx, shuffled) >= observed-eps {
			atLeast++
		}
	}
	t.P = float64(atLeast+1) / float64(perms+1)
	t.MinP = math.Max(minP, 1/float64(perms+1))
	return t
}

// designMinP is the smallest p-value a trend test on blocks can reach,
// known before any test is run: the chance that a random permutation
// orders every block perfectly given the ties in x. Three seeds at each of
// two levels give 3!·3!/6! = 0.05.
func designMinP(blocks []Block) float64 {
	minP := 1.0
	for _, b := range blocks {
		minP *= tieCount(b.X) / factorial(len(b.X))
	}
	return minP
}

// blockMean is the mean over blocks of the rank correlation.
func blockMean(rx, ry [][]float64) float64 {
	var sum float64
	for i := range rx {
		if r := pearson(rx[i], ry[i]); !math.IsNaN(r) {
			sum += r
		}
	}
	return sum / float64(len(rx))
}

// forEachPermutation calls f with every combination of permutations of the
// blocks' values (the cartesian product over blocks).
func forEachPermutation(blocks [][]float64, f func([][]float64)) {
	perBlock := make([][][]float64, len(blocks))
	for i, b := range blocks {
		perBlock[i] = permutations(b)
	}
	current := make([][]float64, len(blocks))
	var walk func(int)
	walk = func(i int) {
		if i == len(blocks) {
			f(current)
			return
		}
		for _, p := range perBlock[i] {
			current[i] = p
			walk(i + 1)
		}
	}
	walk(0)
}

// permutations lists every ordering of xs (Heap's algorithm).
func permutations(xs []float64) [][]float64 {
	a := append([]float64(nil), xs...)
	out := [][]float64{append([]float64(nil), a...)}
	c := make([]int, len(a))
	for i := 0; i < len(a); {
		if c[i] < i {
			if i%2 == 0 {
				a[0], a[i] = a[i], a[0]
			} else {
				a[c[i]], a[i] = a[i], a[c[i]]
			}
			out = append(out, append([]float64(nil), a...))
			c[i]++
			i = 0
		} else {
			c[i] = 0
			i++
		}
	}
	return out
}

func factorial(n int) float64 {
	f := 1.0
	for i := 2; i <= n; i++ {
		f *= float64(i)
	}
	return f
}

// tieCount is the number of orderings of xs that leave it unchanged: the
// product of the factorials of its tie group sizes.
func tieCount(xs []float64) float64 {
	counts := map[float64]int{}
	for _, x := range xs {
		counts[x]++
	}
	c := 1.0
	for _, n := range counts {
		c *= factorial(n)
	}
	return c
}
