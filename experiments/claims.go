package experiments

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Claim is one [[expect]] entry: the finding a grid was written to test,
// checked with statistics across seeds by reports. Exactly one of
// IncreasesWith, Within and Greater is set. Load has already checked that
// every key and value it names occurs in the grid's runs.
type Claim struct {
	// Metric is an evaluation metric, one of Metrics().
	Metric string
	// At is the inference loop the metric is read at; 0 means each run's
	// last (eval.loops).
	At int
	// AtTrainLoops (at = "train.loops") reads each run at the inference
	// loop count it trained with (capped by its eval.loops): the fair
	// point for comparing models trained with different loop counts.
	AtTrainLoops bool
	// IncreasesWith is a dotted key: the metric rises along it.
	// "eval.loops" reads the inference-loop curve every run records.
	IncreasesWith string
	// Within says a and b differ by at most Delta.
	Within *Within
	// Greater says a exceeds b by more than Margin.
	Greater *Greater
	// Where restricts the claim to the runs matching a selector ("" = all).
	Where string
	// MinEffect (min_effect) is the smallest effect worth finding, in the
	// metric's units: the rise from the first to the last level for
	// increases_with, the excess of A − B over margin for greater. When the
	// effect's interval lies wholly below it the claim is not reproduced,
	// rather than inconclusive. 0 leaves it to the report (0.05 by
	// default, reports.DefaultRules); within claims state their bound as
	// delta and take none.
	MinEffect float64
	// Description is the claim in words, for the report.
	Description string

	file  string // where the claim is written, for error messages
	index int
	lines keyLines
}

// Within is an equivalence claim: |metric(A) − metric(B)| ≤ Delta.
type Within struct {
	A, B  string // selectors, e.g. "model.core=hrm"
	Delta float64
}

// Greater is a one-sided claim: metric(A) − metric(B) > Margin.
type Greater struct {
	A, B   string // selectors
	Margin float64
}

// Kind names the claim's test: "increases_with", "within" or "greater".
func (c Claim) Kind() string {
	switch {
	case c.Within != nil:
		return "within"
	case c.Greater != nil:
		return "greater"
	}
	return "increases_with"
}

// AtLoop returns the inference loop the claim reads run r at.
func (c Claim) AtLoop(r RunSpec) int {
	if c.AtTrainLoops {
		return min(r.Train.Loops, r.Eval.Loops)
	}
	if c.At > 0 {
		return c.At
	}
	return r.Eval.Loops
}

// Metrics returns the evaluation metrics train records after every
// inference loop (issue 6), the names a claim may test. Every one is a
// proportion in [0, 1], which is why min_effect is at most 1.
func Metrics() []string {
	return []string{
		"exact_accuracy", "token_accuracy", "halt_probability", "halted_fraction",
		// task-specific scores (tasks.Dataset.Score)
		"valid_solution", "valid_path", "optimal_path",
		"pass@1_strict", "pass@2_strict", "pass@1_partial", "pass@2_partial",
		// the same from the votes of all the run's evaluations (eval.pool_votes)
		"pass@1_strict_pooled", "pass@2_strict_pooled", "pass@1_partial_pooled", "pass@2_partial_pooled",
	}
}

// check validates the claim against the grid's runs.
func (c Claim) check(runs []RunSpec) Errors {
	cc := &claimChecker{c: c, path: "expect[" + strconv.Itoa(c.index) + "]"}
	if !slices.Contains(Metrics(), c.Metric) {
		cc.fail("metric", c.Metric, "must be one of "+quoteAll(Metrics())+suggest(c.Metric, Metrics()))
	}
	kinds := 0
	for _, set := range []bool{c.IncreasesWith != "", c.Within != nil, c.Greater != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		cc.fail("", nil, "a claim needs exactly one of increases_with, within, greater")
	}
	scope := runs
	if c.Where != "" {
		scope = cc.selectRuns("where", c.Where, runs)
		if scope == nil {
			return cc.errs
		}
	}
	if c.At > 0 {
		for _, r := range scope {
			if c.At > r.Eval.Loops {
				cc.fail("at", c.At, fmt.Sprintf("exceeds eval.loops = %d of run %s", r.Eval.Loops, ShortID(r.ID)))
				break
			}
		}
	}
	switch {
	case c.IncreasesWith != "":
		cc.increasesWith(scope)
	case c.Within != nil:
		cc.within(scope)
	case c.Greater != nil:
		if c.Greater.Margin < 0 || math.IsNaN(c.Greater.Margin) || math.IsInf(c.Greater.Margin, 0) {
			cc.fail("greater.margin", c.Greater.Margin, "must be a finite number ≥ 0")
		}
		cc.pair("greater", c.Greater.A, c.Greater.B, scope)
	}
	return cc.errs
}

type claimChecker struct {
	c    Claim
	path string
	errs Errors
}

func (cc *claimChecker) fail(field string, value any, rule string) {
	key := cc.path
	if field != "" {
		key += "." + field
	}
	cc.errs = append(cc.errs, &FieldError{
		File: cc.c.file, Line: cc.c.lines.find(key),
		Key: key, Value: render(value), Rule: rule,
	})
}

func (cc *claimChecker) increasesWith(scope []RunSpec) {
	key := cc.c.IncreasesWith
	f, msg := lookup(key)
	switch {
	case key == seedKey:
		cc.fail("increases_with", key, "a claim cannot trend with the seed")
		return
	case f == nil:
		cc.fail("increases_with", key, msg)
		return
	case f.kind != kindInt && f.kind != kindInt64 && f.kind != kindFloat:
		cc.fail("increases_with", key, "must name a numeric key")
		return
	}
	if key == "eval.loops" {
		if cc.c.At > 0 || cc.c.AtTrainLoops {
			cc.fail("at", cc.c.At, `does not apply: increases_with = "eval.loops" reads the whole inference-loop curve`)
		}
		for _, r := range scope {
			if r.Eval.Loops < 2 {
				cc.fail("increases_with", key, fmt.Sprintf("needs eval.loops ≥ 2, but run %s evaluates %d", ShortID(r.ID), r.Eval.Loops))
				return
			}
		}
		return
	}
	if vals := distinct(f, scope); len(vals) < 2 {
		cc.fail("increases_with", key, fmt.Sprintf("%s takes only the value %s in the claim's runs: sweep it", key, renderAll(vals)))
	}
}

func (cc *claimChecker) within(scope []RunSpec) {
	w := cc.c.Within
	if cc.c.MinEffect != 0 {
		cc.fail("min_effect", cc.c.MinEffect, "does not apply to within: its delta already bounds the difference that matters")
	}
	if w.Delta <= 0 || math.IsNaN(w.Delta) || math.IsInf(w.Delta, 0) {
		cc.fail("within.delta", w.Delta, "must be a finite number greater than 0")
	}
	cc.pair("within", w.A, w.B, scope)
}

// pair checks a and b select non-empty, disjoint sets of runs in scope.
func (cc *claimChecker) pair(field, a, b string, scope []RunSpec) {
	ra := cc.selectRuns(field+".a", a, scope)
	rb := cc.selectRuns(field+".b", b, scope)
	if ra == nil || rb == nil {
		return
	}
	inB := map[string]bool{}
	for _, r := range rb {
		inB[r.ID] = true
	}
	for _, r := range ra {
		if inB[r.ID] {
			cc.fail(field, nil, fmt.Sprintf("a = %q and b = %q both select run %s: they must pick different runs", a, b, ShortID(r.ID)))
			return
		}
	}
}

// selectRuns parses a selector and returns the runs in scope it matches, or
// nil after reporting why it selects none.
func (cc *claimChecker) selectRuns(field, text string, scope []RunSpec) []RunSpec {
	if strings.TrimSpace(text) == "" {
		cc.fail(field, text, `must be a selector like "model.core=hrm"`)
		return nil
	}
	sel, err := ParseSelector(text)
	if err != nil {
		cc.fail(field, text, err.Error())
		return nil
	}
	for _, t := range sel.terms {
		present := distinct(t.f, scope)
		if !slices.ContainsFunc(present, func(v any) bool { return equalValues(v, t.value) }) {
			cc.fail(field, text, fmt.Sprintf("%s = %s occurs in no run of the grid (%s takes %s)", t.f.key, render(t.value), t.f.key, renderAll(present)))
			return nil
		}
	}
	var out []RunSpec
	for _, r := range scope {
		if sel.Match(r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		cc.fail(field, text, "matches no run of the grid")
		return nil
	}
	return out
}

// distinct returns the values f takes across runs, in first-seen order.
func distinct(f *field, runs []RunSpec) []any {
	var vals []any
	for i := range runs {
		v := f.get(&runs[i])
		if !slices.ContainsFunc(vals, func(x any) bool { return equalValues(x, v) }) {
			vals = append(vals, v)
		}
	}
	return vals
}

func renderAll(vals []any) string {
	parts := make([]string, 0, len(vals))
	for i, v := range vals {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("… %d more", len(vals)-i))
			break
		}
		parts = append(parts, render(v))
	}
	return strings.Join(parts, ", ")
}

// Selector picks runs by key values: "model.core=hrm" or, for a
// conjunction, "model.core=trm,train.loops=4".
type Selector struct {
	terms []selectorTerm
}

type selectorTerm struct {
	f     *field
	value any
}

// ParseSelector parses "key=value[,key=value…]". Values are typed like the
// key's field; the empty selector matches every run.
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	if strings.TrimSpace(s) == "" {
		return sel, nil
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		key, text, ok := strings.Cut(part, "=")
		key, text = strings.TrimSpace(key), strings.TrimSpace(text)
		if !ok || key == "" {
			return Selector{}, fmt.Errorf("selector term %q: want key=value, e.g. model.core=hrm", strings.TrimSpace(part))
		}
		f, msg := lookup(key)
		switch {
		case f == nil:
			return Selector{}, fmt.Errorf("selector term %q: %s", strings.TrimSpace(part), msg)
		case f.kind == kindStrings:
			return Selector{}, fmt.Errorf("selector term %q: list keys cannot be selected", strings.TrimSpace(part))
		case seen[key]:
			return Selector{}, fmt.Errorf("selector %q names %s twice", s, key)
		}
		seen[key] = true
		v, rule := f.parseText(text)
		if rule != "" {
			return Selector{}, fmt.Errorf("selector term %q: %s %s", strings.TrimSpace(part), key, rule)
		}
		sel.terms = append(sel.terms, selectorTerm{f: f, value: v})
	}
	return sel, nil
}

// Match reports whether r has every value the selector names.
func (s Selector) Match(r RunSpec) bool {
	for _, t := range s.terms {
		if !equalValues(t.f.get(&r), t.value) {
			return false
		}
	}
	return true
}

// String writes the selector back in its canonical form, keys sorted.
func (s Selector) String() string {
	parts := map[string]string{}
	for _, t := range s.terms {
		v := render(t.value)
		if str, ok := t.value.(string); ok {
			v = str
		}
		parts[t.f.key] = t.f.key + "=" + v
	}
	keys := slices.Sorted(maps.Keys(parts))
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = parts[k]
	}
	return strings.Join(out, ",")
}

// Matches reports whether the run matches a selector like "model.core=hrm".
func (r RunSpec) Matches(selector string) (bool, error) {
	sel, err := ParseSelector(selector)
	if err != nil {
		return false, err
	}
	return sel.Match(r), nil
}

// Select returns the runs matching a selector, in order.
func Select(runs []RunSpec, selector string) ([]RunSpec, error) {
	sel, err := ParseSelector(selector)
	if err != nil {
		return nil, err
	}
	var out []RunSpec
	for _, r := range runs {
		if sel.Match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}
