package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"outerloop/experiments"
)

// Data is everything a report is a function of: the grid, its claims, its runs
// and where they ran. It is the package's own input model so that reports
// builds and tests without a results database; Load fills it from one.
type Data struct {
	Grid       GridInfo
	Claims     []experiments.Claim
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

// Run is one configuration × one seed with what it produced.
type Run struct {
	// ID is the run's id in the results store.
	ID string
	// Config is the run's typed configuration, seed included.
	Config experiments.RunSpec
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
	specs := make([]experiments.RunSpec, len(d.Runs))
	for i, r := range d.Runs {
		specs[i] = r.Config
	}
	return without(experiments.Varying(specs), "seed")
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
		parts[i] = k + "=" + configText(r, k)
	}
	return strings.Join(parts, ", ")
}

// configText formats a run's value of a dotted key for display, as the
// run's canonical JSON writes it, strings bare: labels and the runs table
// read the same as an export. A key the schema lacks reads as "".
func configText(r Run, key string) string {
	v, err := r.Config.Get(key)
	if err != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case []string:
		if x == nil {
			x = []string{} // canonical JSON writes an empty list as []
		}
		v = x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v) // NaN and ±Inf, which JSON cannot hold
	}
	return string(b)
}

// axisValue reads a numeric key of a run's config as a number, the x of a
// trend; ok is false for a key that is not numeric.
func axisValue(r Run, key string) (x float64, ok bool) {
	v, err := r.Config.Get(key)
	if err != nil {
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	}
	return 0, false
}

// value reads a run's metric at the inference loop at.AtLoop picks (only
// at's At and AtTrainLoops matter): from its final evaluation when it has
// one, otherwise the last point of the training curve of that name. The
// error says why there is no value; a NaN value is returned as is.
func (r Run) value(metric string, at experiments.Claim) (float64, error) {
	if byLoops, ok := r.Evals[metric]; ok && len(byLoops) > 0 {
		loops := at.AtLoop(r.Config)
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
