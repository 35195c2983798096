package reports

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Power says what a test can show with the runs present, and about how
// many seeds it would need to show the effect the data suggest.
type Power struct {
	// MinP is the smallest p-value the test can reach with these runs: the
	// permutation design's floor for a trend, 0 for a t test (no floor).
	MinP float64
	// Effect is the observed effect measured from the claim's null (the
	// rise, A − B − margin, or delta − |A − B| for within) and SD the
	// spread it is sized with.
	Effect, SD float64
	// Seeds is about how many Unit would detect Effect at Alpha with power
	// Target; 0 when the effect is not positive or has no spread to size
	// it by, so no number of seeds can be named.
	Seeds int
	Unit  string
	// Alpha and Target are the one-sided level and power Seeds is for.
	Alpha, Target float64
	// Method names the approximation.
	Method string
}

// newPower sizes an observed effect for a one-sided test at α with power
// Target: the smallest n with n ≥ k·((t_{1−α,ν} + t_{power,ν})·sd/effect)²,
// where k = 2 per group for two independent groups (sd pooled, ν = 2n − 2)
// and k = 1 for pairs (sd of the differences, ν = n − 1). It is the normal
// approximation n = k·((z_{1−α} + z_power)·sd/effect)² with Student's t in
// place of z, which matters at the handful of seeds grids have: the normal
// version asks for 3 seeds where 5 are needed. Seeds is never below floor:
// the fewest runs the rules or the test's design accept.
func (r Rules) newPower(minP, effect, sd float64, paired bool, unit string, floor int) *Power {
	p := &Power{MinP: minP, Effect: effect, SD: sd, Unit: unit, Alpha: r.Alpha, Target: r.Power,
		Method: "t-corrected normal approximation, two independent groups with the pooled SD"}
	k, df := 2.0, func(n int) float64 { return float64(2*n - 2) }
	if paired {
		k, df = 1, func(n int) float64 { return float64(n - 1) }
		p.Method = "t-corrected normal approximation, paired differences"
	}
	if !(effect > 0) || math.IsNaN(sd) {
		return p
	}
	needs := func(z float64) float64 { return k * math.Pow(z*sd/effect, 2) }
	// The normal answer is a lower bound (t quantiles exceed z), so the
	// search starts there.
	n := max(2, int(math.Min(maxSeeds, math.Ceil(needs(distuv.UnitNormal.Quantile(1-r.Alpha)+distuv.UnitNormal.Quantile(r.Power))))))
	for n < maxSeeds && float64(n) < needs(TQuantile(1-r.Alpha, df(n))+TQuantile(r.Power, df(n))) {
		n++
	}
	p.Seeds = max(n, floor)
	return p
}

// maxSeeds caps the search for the seeds needed: an effect that needs more
// is, for a training grid, one that cannot be shown.
const maxSeeds = 10000

// pooledSD is the standard deviation pooled over two groups, weighted by
// their degrees of freedom; NaN when neither has two values.
func pooledSD(a, b Summary) float64 {
	var ss, df float64
	for _, s := range []Summary{a, b} {
		if s.N >= 2 {
			ss += float64(s.N-1) * s.SD * s.SD
			df += float64(s.N - 1)
		}
	}
	if df == 0 {
		return math.NaN()
	}
	return math.Sqrt(ss / df)
}

// designSeeds is the fewest seeds per level at which a permutation test of
// a trend over equal groups at levels levels can reach α at all: the
// chance of the one perfect ordering, (n!)^levels/(levels·n)!, is ≤ α.
func designSeeds(levels int, alpha float64) int {
	if levels < 2 {
		return 0
	}
	for n := 1; ; n++ {
		if attainable(math.Exp(float64(levels)*lfact(n)-lfact(levels*n)), alpha) {
			return n
		}
	}
}

// attainable reports whether a test whose smallest p is minP can reject at
// α, allowing for rounding in a product of factorial ratios (3 against 3
// seeds reach exactly 0.05).
func attainable(minP, alpha float64) bool { return minP <= alpha*(1+1e-9) }

func lfact(n int) float64 {
	v, _ := math.Lgamma(float64(n + 1))
	return v
}

// String is the power statement a report shows under a test: needs with
// the numbers it rests on.
func (p Power) String() string {
	floor := "no floor on p (t test)"
	if p.MinP > 0 {
		floor = fmt.Sprintf("smallest attainable p = %.3g", p.MinP)
		if attainable(p.MinP, p.Alpha) && p.MinP > p.Alpha/2 {
			floor += fmt.Sprintf(" (only a perfect ordering of every run reaches α = %g: one bad seed decides)", p.Alpha)
		}
	}
	s := floor + "; " + p.needs()
	if p.Seeds > 0 {
		s += fmt.Sprintf(", from the observed effect %.3g and SD %.3g (%s)", p.Effect, p.SD, p.Method)
	}
	return s
}

// needs says, for a verdict's reason, how many seeds would show the claim
// at the observed effect.
func (p Power) needs() string {
	switch {
	case math.IsNaN(p.Effect) || math.IsNaN(p.SD):
		return "too few values to estimate the seeds needed"
	case !(p.Effect > 0):
		return fmt.Sprintf("the observed effect (%.3g) does not point the claim's way, so more seeds would not show it", p.Effect)
	}
	if p.Seeds >= maxSeeds {
		return fmt.Sprintf("more than %d %s would be needed to show an effect this size (α = %g, %g%% power): in practice no number", maxSeeds, p.Unit, p.Alpha, 100*p.Target)
	}
	return fmt.Sprintf("about %d %s would show an effect this size (α = %g, %g%% power)", p.Seeds, p.Unit, p.Alpha, 100*p.Target)
}
