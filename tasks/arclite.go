package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"outerloop/experiments"
)

// ARC-lite is a generator of small ARC-style tasks whose rule needs
// iterative computation — the kind of work a refinement loop can spread
// over segments — so the outer-loop finding can be probed on a CPU budget.
// Each task is one family with hidden parameters (colours, a direction)
// shown through liteDemos demonstrations; the model has to infer them, as
// on ARC, and answer liteTests test inputs.
const (
	liteDemos = 3
	liteTests = 1
	// liteMinSide is the smallest grid side; grids are liteMinSide..Size.
	liteMinSide = 5
)

// liteRule makes one example pair of a task; ok is false when the draw
// happened to show nothing (no cell changes), and the caller redraws.
type liteRule func(rng *rand.Rand, h, w int) (p Pair, ok bool)

// liteFamily draws a task's hidden parameters and returns its rule.
type liteFamily func(rng *rand.Rand) liteRule

// LiteFamilies returns the names of the ARC-lite families.
func LiteFamilies() []string {
	return []string{"fill", "gravity", "extend", "connect", "recolour"}
}

func liteFamilyByName(name string) (liteFamily, bool) {
	switch name {
	case "fill":
		return liteFill, true
	case "gravity":
		return liteGravity, true
	case "extend":
		return liteExtend, true
	case "connect":
		return liteConnect, true
	case "recolour":
		return liteRecolour, true
	}
	return nil, false
}

// GenerateLiteTask makes one ARC-lite task of the named family with grids
// of side liteMinSide..maxSide.
func GenerateLiteTask(rng *rand.Rand, family string, maxSide int) (Task, error) {
	fam, ok := liteFamilyByName(family)
	if !ok {
		return Task{}, fmt.Errorf("arc-lite family %q: want one of %q", family, LiteFamilies())
	}
	if maxSide < liteMinSide || maxSide > MaxARCSide {
		return Task{}, fmt.Errorf("arc-lite size %d: want %d..%d", maxSide, liteMinSide, MaxARCSide)
	}
	rule := fam(rng)
	t := Task{ID: family}
	for len(t.Train)+len(t.Test) < liteDemos+liteTests {
		var p Pair
		for try := 0; ; try++ {
			if try == 100 {
				return Task{}, fmt.Errorf("arc-lite %s: no informative example in 100 draws", family)
			}
			h := liteMinSide + rng.IntN(maxSide-liteMinSide+1)
			w := liteMinSide + rng.IntN(maxSide-liteMinSide+1)
			if p, ok = rule(rng, h, w); ok {
				break
			}
		}
		if len(t.Train) < liteDemos {
			t.Train = append(t.Train, p)
		} else {
			t.Test = append(t.Test, p)
		}
	}
	return t, nil
}

// buildARCLite generates cfg.Train training tasks and cfg.Test evaluation
// tasks, the families taken in turn, and builds them like ARC.
func buildARCLite(cfg experiments.TaskConfig, src string) (*Dataset, error) {
	if src != "" {
		return nil, fmt.Errorf("task.source %s: arc-lite is generated only", src)
	}
	families := cfg.Families
	if len(families) == 0 {
		families = LiteFamilies()
	}
	for _, f := range families {
		if _, ok := liteFamilyByName(f); !ok {
			return nil, fmt.Errorf("task.families: %q is not one of %q", f, LiteFamilies())
		}
	}
	want := cfg.Train + cfg.Test
	seen := map[uint64]bool{}
	var all []Task
	gen := func(i int) (Task, error) {
		t, err := GenerateLiteTask(itemRNG(cfg.Seed, 5, i), families[i%len(families)], cfg.Size)
		t.ID = fmt.Sprintf("%s-%05d", t.ID, i)
		return t, err
	}
	accept := func(t Task) bool {
		h := newHash()
		for _, p := range slices.Concat(t.Train, t.Test) {
			identityVariant().hashInto(&h, p.Input)
			identityVariant().hashInto(&h, p.Output)
		}
		if !seen[uint64(h)] {
			seen[uint64(h)] = true
			all = append(all, t)
		}
		return len(all) >= want
	}
	if err := generateOrdered(attemptBudget(want), gen, accept); err != nil {
		return nil, fmt.Errorf("generate %d arc-lite tasks: %w", want, err)
	}
	eval := make([]EvalTask, 0, cfg.Test)
	for _, t := range all[cfg.Train:] {
		eval = append(eval, Seal(t))
	}
	return NewARCDataset(all[:cfg.Train], eval, ARCOptions{
		Name:       fmt.Sprintf("arc-lite-%d", cfg.Size),
		Canvas:     cfg.Size,
		Augment:    cfg.Augment,
		Votes:      cfg.Votes,
		Translate:  true,
		DropLeaked: true, // generated data has no papers' build to match: never leak
		Seed:       cfg.Seed,
	})
}

// colours draws k distinct colours from 1–9.
func colours(rng *rand.Rand, k int) []uint8 {
	out := make([]uint8, k)
	for i, c := range rng.Perm(9)[:k] {
		out[i] = uint8(c + 1)
	}
	return out
}

// changed reports whether a pair shows the rule doing something.
func changed(p Pair) bool { return !p.Input.Equal(p.Output) }
