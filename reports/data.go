package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Data is everything a report is a function of: the grid, its claims, its runs
// and where they ran. It is the package's own input model so that reports
// builds and tests without a results database; Load fills it from one.
type Data struct {
	Grid       GridInfo
	Claims     []Claim
	Runs       []Run
	Provenance []Provenance
}

// GridInfo describes the grid a report is about.
type GridInfo struct {
	Name        string
	Title       string
	Description string
	// Path is the grid file the runs were expanded from.
	Path string
	// Varying lists the dotted config keys that differ between runs (seed
	// excluded). When empty it is computed from the runs' configs.
	Varying []string
}

// Claim mirrors one [[expect]] entry of a grid: exactly one of
// IncreasesWith, Within and Greater is set.
type Claim struct {
	// Metric is the evaluation (or logged) metric the claim is about,
	// e.g. "exact_accuracy".
	Metric string
	// At picks the inference-loop count the metric is read at: "" for the
	// run's final evaluation (its largest eval.loops), "N" or "eval.loops=N"
	// for N loops, "train.loops" for as many loops as the run trained with.
	At string
	// IncreasesWith is a dotted key ("train.loops", "eval.loops") along
	// which the metric should rise.
	IncreasesWith string
	// Within claims that selections A and B differ by less than Delta.
	Within *Within
	// Greater claims that selection A exceeds selection B by more than
	// Margin.
	Greater *Greater
	// Where restricts the claim to runs matching a selector such as
	// "model.core=hrm, train.loops=8".
	Where       string
	Description string
}

// Within is an equivalence claim: |mean(A) − mean(B)| < Delta.
type Within struct {
	A, B  string
	Delta float64
}

// Greater is a one-sided claim: mean(A) − mean(B) > Margin.
type Greater struct {
	A, B   string
	Margin float64
}

// Run is one configuration × one seed with what it produced.
type Run struct {
	ID   string
	Seed int64
	// Config maps every dotted key ("train.loops") to its value as text.
	Config map[string]string
	// Status is pending | running | done | failed | interrupted.
	Status      string
	Error       string
	WallSeconds float64
	// TrainFLOPs is the analytic training compute of the segments run.
	TrainFLOPs float64
	// Curves holds logged training metrics ("loss", "exact_accuracy") by step.
	Curves map[string][]Point
	// Evals holds the final evaluation: metric → inference loops → value.
	Evals map[string]map[int]float64
	// HaltSegments[i] counts training samples that halted after i+1
	// segments.
	HaltSegments []int
}

// Point is one logged value of a training curve.
type Point struct {
	Step  int
	Value float64
}

// Provenance records where and with what a set of runs was trained.
type Provenance struct {
	Commit    string
	Dirty     bool
	GoVersion string
	Torch     string // libtorch version
	TorchABI  string // e.g. "pre-cxx11"
	Host      string
	CPU       string
	Threads   int
	// RunIDs are the runs trained under this provenance.
	RunIDs []string
}

// StatusDone is the status of a run whose results count.
const StatusDone = "done"

// varying returns the grid's varying keys, computing them from the runs'
// configs when the grid does not list them.
func (d *Data) varying() []string {
	if len(d.Grid.Varying) > 0 {
		keys := append([]string(nil), d.Grid.Varying...)
		sort.Strings(keys)
		return keys
	}
	all := map[string]bool{}
	for _, r := range d.Runs {
		for k := range r.Config {
			all[k] = true
		}
	}
	var keys []string
	for k := range all {
		// A key missing from some runs reads as "" there, so it varies too.
		seen := map[string]bool{}
		for _, r := range d.Runs {
			seen[r.Config[k]] = true
		}
		if len(seen) > 1 && k != "seed" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// without returns keys minus the ones in drop, keeping order.
func without(keys []string, drop ...string) []string {
	var out []string
	for _, k := range keys {
		if !contains(drop, k) {
			out = append(out, k)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// label names a run's configuration by the given keys: "model.core=hrm,
// train.loops=4". With no keys it is "all runs".
func label(r Run, keys []string) string {
	if len(keys) == 0 {
		return "all runs"
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + r.Config[k]
	}
	return strings.Join(parts, ", ")
}

// sameValue compares config values numerically when both are numbers, so
// "8" matches "8.0".
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, errX := strconv.ParseFloat(a, 64)
	y, errY := strconv.ParseFloat(b, 64)
	return errX == nil && errY == nil && x == y
}

// Selector is a conjunction of key=value clauses that picks runs.
type Selector []Clause

// Clause is one key=value condition of a Selector.
type Clause struct{ Key, Value string }

// ParseSelector parses "k=v, k2=v2" (also "k=v and k2=v2"); the empty string
// selects every run.
func ParseSelector(s string) (Selector, error) {
	s = strings.ReplaceAll(s, " and ", ",")
	var sel Selector
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || k == "" {
			return nil, fmt.Errorf("parse selector %q: clause %q is not key=value", s, part)
		}
		sel = append(sel, Clause{Key: k, Value: v})
	}
	return sel, nil
}

// Match reports whether a run satisfies every clause.
func (s Selector) Match(r Run) bool {
	for _, c := range s {
		v, ok := r.Config[c.Key]
		if c.Key == "seed" {
			v, ok = strconv.FormatInt(r.Seed, 10), true
		}
		if !ok || !sameValue(v, c.Value) {
			return false
		}
	}
	return true
}

// Keys returns the keys the selector constrains.
func (s Selector) Keys() []string {
	keys := make([]string, len(s))
	for i, c := range s {
		keys[i] = c.Key
	}
	return keys
}

// at is a parsed Claim.At.
type at struct {
	loops      int  // fixed inference loops; 0 = final
	trainLoops bool // read at the run's own train.loops
}

func parseAt(s string) (at, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "final":
		return at{}, nil
	case "train.loops":
		return at{trainLoops: true}, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "eval.loops="))
	if err != nil || n < 1 {
		return at{}, fmt.Errorf("parse at %q: want \"\", \"train.loops\", N or \"eval.loops=N\" with N ≥ 1", s)
	}
	return at{loops: n}, nil
}

func (a at) String() string {
	switch {
	case a.trainLoops:
		return "eval.loops=train.loops"
	case a.loops > 0:
		return fmt.Sprintf("eval.loops=%d", a.loops)
	}
	return "final eval"
}

// value reads a run's metric at a: from its final evaluation when it has
// one, otherwise the last point of the training curve of that name. The
// error says why there is no value; a NaN value is returned as is.
func (r Run) value(metric string, a at) (float64, error) {
	if byLoops, ok := r.Evals[metric]; ok && len(byLoops) > 0 {
		loops := a.loops
		if a.trainLoops {
			n, err := strconv.Atoi(r.Config["train.loops"])
			if err != nil {
				return 0, fmt.Errorf("train.loops %q is not a number", r.Config["train.loops"])
			}
			loops = n
		}
		if loops == 0 {
			for l := range byLoops {
				loops = max(loops, l)
			}
		}
		v, ok := byLoops[loops]
		if !ok {
			return 0, fmt.Errorf("no %s at eval.loops=%d", metric, loops)
		}
		return v, nil
	}
	if pts := r.Curves[metric]; len(pts) > 0 {
		return pts[len(pts)-1].Value, nil
	}
	return 0, fmt.Errorf("no %s recorded", metric)
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
