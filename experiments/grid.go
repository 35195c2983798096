package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
)

// Grid is a loaded grid file: its base grids merged underneath, overrides
// applied, every run validated and every claim checked against the runs.
// Runs are resolved in this order, later winning: defaults → base grids →
// this grid's sections → sweep values → --set overrides.
type Grid struct {
	// Name labels the grid's runs in the results; each file names itself
	// (it is not inherited through extends).
	Name string
	// Title and Description head the report; inherited when unset.
	Title       string
	Description string
	// Path is the grid file as given to Load.
	Path string
	// Extends lists the base grid files merged underneath, nearest first.
	Extends []string
	// Seeds are the run seeds; every configuration runs once per seed.
	// Inherited when unset; [0] when no file sets them.
	Seeds []int64
	// Axes are the sweep dimensions in file order (base grids' first), then
	// the zip groups; the first axis varies slowest.
	Axes []Axis
	// Expect are the claims, base grids' first.
	Expect []Claim
	// Overrides are the --set arguments applied, in order.
	Overrides []string

	base RunSpec           // resolved without sweep values or seed
	src  map[string]source // where each non-default base value was written
}

// Axis is one sweep dimension: a [sweep] key, or a [[sweep.zip]] group whose
// keys step together.
type Axis struct {
	// Keys are the dotted keys; more than one for a zip group.
	Keys []string
	// Values holds the points: Values[i][j] is Keys[j]'s value at point i,
	// typed like RunSpec.Get returns it.
	Values [][]any

	srcs []source // where each key was swept
}

// Zip reports whether the axis is a [[sweep.zip]] group.
func (a Axis) Zip() bool { return len(a.Keys) > 1 }

// MaxRuns bounds a grid's expansion: a grid larger than this is almost
// certainly a mistake at this project's scale (and could exhaust memory).
const MaxRuns = 10000

// maxExtends bounds the extends chain.
const maxExtends = 32

// Load reads, merges and validates the grid file at path, applying the
// --set overrides ("train.steps=200"). All problems found are returned at
// once as Errors; a missing or unreadable file is a plain wrapped error.
func Load(path string, overrides []string) (*Grid, error) {
	l := &loader{read: os.ReadFile}
	return l.load(path, overrides)
}

// loader reads files through read, so the fuzz test can serve them from memory.
type loader struct {
	read func(string) ([]byte, error)
	errs Errors
}

func (l *loader) load(path string, overrides []string) (*Grid, error) {
	data, err := l.read(path)
	if err != nil {
		return nil, fmt.Errorf("load grid %s: %w", path, err)
	}
	fg, chain := l.chain(path, data, nil)
	if fg == nil {
		return nil, l.errs.asError()
	}
	g := &Grid{
		Name: fg.name, Title: fg.title, Description: fg.description,
		Path: path, Extends: chain, Seeds: fg.seeds,
		Axes: fg.axes, Expect: fg.claims,
		base: DefaultRunSpec(), src: map[string]source{},
	}
	switch {
	case fg.name == "":
		l.errs = append(l.errs, &FieldError{File: path, Key: "name", Rule: `missing: every grid names itself, e.g. name = "outer-loop"`})
	case !gridNameRE.MatchString(fg.name):
		e := &FieldError{Key: "name", Value: render(fg.name), Rule: "must be letters, digits, '.', '_' or '-', starting with a letter or digit"}
		source{file: path, line: scanKeyLines(string(data)).find("name")}.locate(e)
		l.errs = append(l.errs, e)
	}
	if !fg.hasSeeds {
		g.Seeds = []int64{0}
	}
	for _, a := range fg.assigns {
		g.assign(a)
	}
	for _, arg := range overrides {
		if e := g.applyOverride(arg); e != nil {
			l.errs = append(l.errs, e)
		}
	}
	runs, errs := g.expand()
	l.errs = append(l.errs, errs...)
	if len(runs) > 0 {
		for _, c := range g.Expect {
			l.errs = append(l.errs, c.check(runs)...)
		}
	}
	if len(l.errs) > 0 {
		return nil, l.errs.asError()
	}
	return g, nil
}

// chain parses the file at path and, recursively, the files it extends,
// returning the merged result and the base files' paths.
func (l *loader) chain(path string, data []byte, stack []string) (*fileGrid, []string) {
	fg, errs := parseFile(path, data)
	l.errs = append(l.errs, errs...)
	if fg == nil || fg.extends == "" {
		return fg, nil
	}
	basePath := fg.extends
	if !filepath.IsAbs(basePath) {
		basePath = filepath.Join(filepath.Dir(path), basePath)
	}
	stack = append(stack, canonicalPath(path))
	fail := func(rule string) (*fileGrid, []string) {
		e := &FieldError{Key: "extends", Value: render(fg.extends), Rule: rule}
		fg.extendsSrc.locate(e)
		l.errs = append(l.errs, e)
		return fg, nil
	}
	if i := slices.Index(stack, canonicalPath(basePath)); i >= 0 {
		return fail("extends cycle: " + strings.Join(append(slices.Clone(stack[i:]), canonicalPath(basePath)), " → "))
	}
	if len(stack) > maxExtends {
		return fail(fmt.Sprintf("extends chain is longer than %d files", maxExtends))
	}
	baseData, err := l.read(basePath)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fail(fmt.Sprintf("cannot read base grid %s: %v", basePath, err))
	}
	base, baseChain := l.chain(basePath, baseData, stack)
	if base == nil {
		return fg, append([]string{basePath}, baseChain...)
	}
	return merge(base, fg), append([]string{basePath}, baseChain...)
}

func canonicalPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}

// merge lays child over base. Values and claims accumulate; the child's
// name is its own. An axis in the child replaces every base axis sweeping
// one of its keys, and a key the child fixes in a section is removed from
// the base's axes, so the child always has the last word.
func merge(base, child *fileGrid) *fileGrid {
	out := *child
	if !child.hasTitle {
		out.title, out.hasTitle = base.title, base.hasTitle
	}
	if !child.hasDescription {
		out.description, out.hasDescription = base.description, base.hasDescription
	}
	if !child.hasSeeds {
		out.seeds, out.hasSeeds = base.seeds, base.hasSeeds
	}
	out.assigns = append(slices.Clone(base.assigns), child.assigns...)
	var axes []Axis
	for _, ax := range base.axes {
		replaced := slices.ContainsFunc(child.axes, func(c Axis) bool {
			return slices.ContainsFunc(c.Keys, func(k string) bool { return slices.Contains(ax.Keys, k) })
		})
		if replaced {
			continue
		}
		for _, a := range child.assigns {
			ax = ax.without(a.key)
		}
		if len(ax.Keys) > 0 {
			axes = append(axes, ax)
		}
	}
	out.axes = append(axes, child.axes...)
	out.claims = append(slices.Clone(base.claims), child.claims...)
	return &out
}

// without returns the axis with key removed (the rest of a zip group stays
// linked); a copy, so the original is untouched.
func (a Axis) without(key string) Axis {
	j := slices.Index(a.Keys, key)
	if j < 0 {
		return a
	}
	out := Axis{
		Keys: slices.Delete(slices.Clone(a.Keys), j, j+1),
		srcs: slices.Delete(slices.Clone(a.srcs), j, j+1),
	}
	for _, pt := range a.Values {
		out.Values = append(out.Values, slices.Delete(slices.Clone(pt), j, j+1))
	}
	return out
}

func (g *Grid) assign(a assignment) {
	f, _ := lookup(a.key)
	f.set(&g.base, a.value)
	g.src[a.key] = a.src
}

// Expand returns the grid's runs, fully resolved and validated, with their
// ids set: the product of the axes (first axis slowest), each run once per
// seed (seeds fastest).
func (g *Grid) Expand() ([]RunSpec, error) {
	runs, errs := g.expand()
	if len(errs) > 0 {
		return nil, errs.asError()
	}
	return runs, nil
}

func (g *Grid) expand() ([]RunSpec, Errors) {
	configs := 1
	for _, ax := range g.Axes {
		if configs*len(g.Seeds) > MaxRuns {
			break
		}
		configs *= len(ax.Values)
	}
	if configs*len(g.Seeds) > MaxRuns {
		return nil, Errors{{File: g.Path, Key: "sweep", Rule: fmt.Sprintf("the grid expands to more than %d runs; split it", MaxRuns)}}
	}
	axisSrc := map[string]source{}
	for _, ax := range g.Axes {
		for j, k := range ax.Keys {
			if j < len(ax.srcs) {
				axisSrc[k] = ax.srcs[j]
			}
		}
	}
	var runs []RunSpec
	var errs Errors
	ids := map[string]int{}
	point := make([]int, len(g.Axes))
	for range configs {
		r, rerrs := g.resolve(point)
		for _, e := range rerrs {
			g.locate(e, axisSrc)
			errs = append(errs, e)
		}
		for _, seed := range g.Seeds {
			r.Seed = seed
			id, err := r.Hash()
			if err != nil {
				continue // a value JSON cannot hold; checkRun has reported it
			}
			if prev, dup := ids[id]; dup {
				errs = append(errs, &FieldError{File: g.Path, Key: "sweep", Rule: fmt.Sprintf("runs %d and %d resolve to the same configuration %s", prev+1, len(runs)+1, ShortID(id))})
				continue
			}
			ids[id] = len(runs)
			r.ID = id
			runs = append(runs, r)
		}
		next(point, g.Axes)
	}
	return runs, errs
}

// resolve lays the axes' values at point over the base configuration and
// validates the result.
func (g *Grid) resolve(point []int) (RunSpec, Errors) {
	r := g.base
	var errs Errors
	for i, ax := range g.Axes {
		values := ax.Values[point[i]]
		for j, k := range ax.Keys {
			f, msg := lookup(k)
			switch {
			case f == nil:
				errs = append(errs, &FieldError{Key: k, Rule: msg})
			case j >= len(values) || !f.set(&r, values[j]):
				errs = append(errs, &FieldError{Key: k, Rule: fmt.Sprintf("axis point %d has no value of the key's type", point[i])})
			}
		}
	}
	r = r.normalized()
	r.Grid = g.Name
	return r, append(errs, checkRun(r)...)
}

// next advances the odometer point over axes, the last axis fastest.
func next(point []int, axes []Axis) {
	for i := len(point) - 1; i >= 0; i-- {
		point[i]++
		if point[i] < len(axes[i].Values) {
			return
		}
		point[i] = 0
	}
}

func checkRun(r RunSpec) Errors {
	var ck checker
	r.check(&ck)
	return ck.errs
}

// locate points a validation error at where its value was written: the
// sweep axis, the section line or the --set argument of its key, or of the
// first related key with a written source when its own value is a default.
func (g *Grid) locate(e *FieldError, axisSrc map[string]source) {
	for _, k := range append([]string{e.Key}, e.related...) {
		if s, ok := axisSrc[k]; ok {
			s.locate(e)
			return
		}
		if s, ok := g.src[k]; ok {
			s.locate(e)
			return
		}
	}
}

// SourceDir returns the folder a relative task.source of run r resolves
// against: the folder of the grid file that set it (a base grid's own
// folder for a value it sets, the top grid's for a value swept or set
// there), or "" — the working directory — for a value given with --set,
// which is typed on the command line. This is the one rule for data paths
// (docs/grid.md); the run id keeps the path as written, so moving a
// checkout does not rename its runs.
func (g *Grid) SourceDir(r RunSpec) string {
	s, ok := g.src["task.source"]
	for _, ax := range g.Axes {
		if j := slices.Index(ax.Keys, "task.source"); j >= 0 && j < len(ax.srcs) {
			s, ok = ax.srcs[j], true
		}
	}
	switch {
	case !ok && g.Path != "": // not set in any file: the grid's own folder
		return filepath.Dir(g.Path)
	case !ok || s.file == "": // --set
		return ""
	}
	return filepath.Dir(s.file)
}

func equalValues(a, b any) bool { return reflect.DeepEqual(a, b) }
