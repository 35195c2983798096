package experiments

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// A grid file is decoded into a generic document and then checked key by
// key against the schema, rather than decoded into structs: BurntSushi/toml
// matches keys case-insensitively, stops at the first type error and knows
// nothing of sweeps, so strictness and "all errors in one pass" are done here.

// source is where a value was written.
type source struct {
	file string
	line int
	set  string // the --set argument, for overrides
}

func (s source) locate(e *FieldError) {
	e.File, e.Line, e.Set = s.file, s.line, s.set
}

// assignment is one `key = value` from a config section or an override.
type assignment struct {
	key   string
	value any
	src   source
}

// fileGrid is one file's contribution before extends are merged.
type fileGrid struct {
	path                     string
	name, title, description string
	hasTitle, hasDescription bool
	extends                  string
	extendsSrc               source
	seeds                    []int64
	hasSeeds                 bool
	assigns                  []assignment
	axes                     []Axis
	claims                   []Claim
}

// fileParser turns one decoded document into a fileGrid, collecting errors.
type fileParser struct {
	path  string
	lines keyLines
	errs  Errors
}

func (p *fileParser) src(path string) source {
	return source{file: p.path, line: p.lines.find(path)}
}

// fail records an error for the key at path (also used to find the line).
func (p *fileParser) fail(path string, value any, rule string) {
	e := &FieldError{Key: path, Value: render(value), Rule: rule}
	p.src(path).locate(e)
	p.errs = append(p.errs, e)
}

// parseFile decodes and checks one grid file.
func parseFile(path string, data []byte) (*fileGrid, Errors) {
	p := &fileParser{path: path}
	var doc map[string]any
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		e := &FieldError{File: path, Rule: err.Error()}
		var pe toml.ParseError
		if errors.As(err, &pe) {
			e.Line, e.Key, e.Rule = pe.Position.Line, pe.LastKey, "invalid TOML: "+pe.Message
		}
		if e.Key == "" {
			e.Key = "(document)"
		}
		return nil, Errors{e}
	}
	p.lines = scanKeyLines(string(data))
	g := &fileGrid{path: path}
	for _, k := range slices.Sorted(maps.Keys(doc)) {
		p.top(g, k, doc[k], md)
	}
	return g, p.errs
}

func (p *fileParser) top(g *fileGrid, k string, v any, md toml.MetaData) {
	switch k {
	case "name":
		g.name = p.str(k, v)
	case "title":
		g.title, g.hasTitle = p.str(k, v), true
	case "description":
		g.description, g.hasDescription = p.str(k, v), true
	case "extends":
		g.extends, g.extendsSrc = p.str(k, v), p.src(k)
		if s, ok := v.(string); ok && s == "" {
			p.fail(k, v, "must name the base grid file, relative to this one")
		}
	case "seeds":
		g.seeds, g.hasSeeds = p.parseSeeds(v), true
	case "task", "model", "train", "eval":
		g.assigns = append(g.assigns, p.section(k, v)...)
	case "sweep":
		g.axes = p.sweep(v, md)
	case "expect":
		g.claims = p.claims(v)
	default:
		p.fail(k, nil, "unknown key"+suggest(k, topKeys))
	}
}

var topKeys = []string{"name", "title", "description", "extends", "seeds", "task", "model", "train", "eval", "sweep", "expect"}

func (p *fileParser) str(path string, v any) string {
	s, ok := v.(string)
	if !ok {
		p.fail(path, v, "must be a string, not "+tomlType(v))
	}
	return s
}

var gridNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func (p *fileParser) parseSeeds(v any) []int64 {
	list, ok := v.([]any)
	if !ok {
		p.fail("seeds", v, "must be a list of integers, e.g. seeds = [1, 2, 3]")
		return nil
	}
	if len(list) == 0 {
		p.fail("seeds", v, "must list at least one seed")
	}
	var seeds []int64
	for i, x := range list {
		path := fmt.Sprintf("seeds[%d]", i)
		switch n, ok := x.(int64); {
		case !ok:
			p.fail(path, x, "a seed must be an integer, not "+tomlType(x))
		case slices.Contains(seeds, n):
			p.fail(path, x, fmt.Sprintf("seed %d is listed twice", n))
		default:
			seeds = append(seeds, n)
		}
	}
	return seeds
}

func (p *fileParser) section(sec string, v any) []assignment {
	table, ok := v.(map[string]any)
	if !ok {
		p.fail(sec, v, "must be a table: ["+sec+"]")
		return nil
	}
	var out []assignment
	for _, k := range slices.Sorted(maps.Keys(table)) {
		key := sec + "." + k
		f, msg := lookup(key)
		if f == nil {
			p.fail(key, table[k], msg)
			continue
		}
		val, rule := f.convert(table[k])
		if rule != "" {
			p.fail(key, table[k], rule)
			continue
		}
		out = append(out, assignment{key: key, value: val, src: p.src(key)})
	}
	return out
}

// sweep reads [sweep] axes in the order they are written, then the
// [[sweep.zip]] groups.
func (p *fileParser) sweep(v any, md toml.MetaData) []Axis {
	table, ok := v.(map[string]any)
	if !ok {
		p.fail("sweep", v, "must be a table of dotted keys to lists: [sweep]")
		return nil
	}
	order := map[string]int{}
	for i, k := range md.Keys() {
		if len(k) > 1 && k[0] == "sweep" {
			if joined := strings.Join(k[1:], "."); order[joined] == 0 {
				order[joined] = i + 1
			}
		}
	}
	flat := p.flattenTable("sweep", table, "zip")
	keys := slices.SortedFunc(maps.Keys(flat), func(a, b string) int {
		return cmpOrder(order, a, b)
	})
	var axes []Axis
	seen := map[string]string{}
	for _, k := range keys {
		if ax, ok := p.axis(k, "sweep."+k, flat[k], seen, true); ok {
			axes = append(axes, ax)
		}
	}
	if z, ok := table["zip"]; ok {
		axes = append(axes, p.zips(z, order, seen)...)
	}
	return axes
}

func cmpOrder(order map[string]int, a, b string) int {
	if order[a] != order[b] {
		return order[a] - order[b]
	}
	return strings.Compare(a, b)
}

// flatten turns nested tables (from unquoted dotted keys) into dotted keys,
// so `"train.loops" = […]` and `train.loops = […]` mean the same; a key
// written both ways is appended to dups.
//
// An empty table, and a table under a key that is itself a setting
// ("train.loops" = {…}), stay whole, so that the axis check names them
// rather than letting them vanish or turn into unknown keys.
func flatten(prefix string, v any, out map[string]any, dups *[]string) {
	table, ok := v.(map[string]any)
	if f, _ := lookup(prefix); ok && (len(table) == 0 || f != nil) {
		ok = false
	}
	if !ok {
		if _, seen := out[prefix]; seen {
			*dups = append(*dups, prefix)
		}
		out[prefix] = v
		return
	}
	for k, x := range table {
		flatten(prefix+"."+k, x, out, dups)
	}
}

// flattenTable flattens every entry of table but skip, reporting keys
// written twice under path.
func (p *fileParser) flattenTable(path string, table map[string]any, skip string) map[string]any {
	flat := map[string]any{}
	var dups []string
	for _, k := range slices.Sorted(maps.Keys(table)) {
		if k != skip {
			flatten(k, table[k], flat, &dups)
		}
	}
	for _, k := range dups {
		p.fail(path+"."+k, flat[k], k+" is swept twice (written both quoted and dotted)")
		delete(flat, k)
	}
	return flat
}

// axis checks one swept key: it must exist, be part of the run identity,
// and list values of its type, distinct unless the axis is one key of a zip
// group (there values repeat; zipGroup checks the tuples). seen maps keys
// already swept in this file to where, to reject duplicates between [sweep]
// and [[sweep.zip]].
func (p *fileParser) axis(key, path string, v any, seen map[string]string, distinct bool) (Axis, bool) {
	f, msg := lookup(key)
	switch {
	case key == seedKey:
		p.fail(path, v, "the run seed is not swept here: list seeds in the top-level seeds = […]")
		return Axis{}, false
	case f == nil && isEmptyTable(v):
		p.fail(path, v, "is an empty table: [sweep] maps dotted keys to lists, e.g. \"train.loops\" = [1, 2]; remove the table or list its keys")
		return Axis{}, false
	case f == nil:
		p.fail(path, v, "sweeps a key that does not exist: "+msg)
		return Axis{}, false
	case !f.identity:
		p.fail(path, v, "is not part of a run's identity, so sweeping it would repeat runs")
		return Axis{}, false
	case seen[key] != "":
		p.fail(path, v, fmt.Sprintf("%s is swept twice (also at %s)", key, seen[key]))
		return Axis{}, false
	}
	seen[key] = fmt.Sprintf("%s:%d", p.path, p.lines.find(path))
	list, ok := v.([]any)
	if !ok {
		p.fail(path, v, "must be a list of values to sweep, e.g. [1, 2, 4]"+notAList(v))
		return Axis{}, false
	}
	if len(list) == 0 {
		p.fail(path, v, "empty axis: a sweep needs at least one value")
		return Axis{}, false
	}
	ax := Axis{Keys: []string{key}, srcs: []source{p.src(path)}}
	bad := false
	for i, x := range list {
		val, rule := f.convert(x)
		elem := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case rule != "":
			p.fail(elem, x, rule)
			bad = true
			continue
		case distinct && slices.ContainsFunc(ax.Values, func(pt []any) bool { return equalValues(pt[0], val) }):
			p.fail(elem, x, "is listed twice in the axis")
			bad = true
			continue
		}
		ax.Values = append(ax.Values, []any{val})
	}
	return ax, !bad
}

// notAList says what a swept value that is not a list is instead, for the
// shapes TOML allows that a reader may not expect.
func notAList(v any) string {
	switch v.(type) {
	case map[string]any:
		return ", not a table"
	case []map[string]any:
		return ", not an array of tables ([[…]])"
	}
	return ""
}

func isEmptyTable(v any) bool {
	t, ok := v.(map[string]any)
	return ok && len(t) == 0
}

// zips reads the [[sweep.zip]] groups: keys in one group step together.
func (p *fileParser) zips(v any, order map[string]int, seen map[string]string) []Axis {
	var groups []map[string]any
	switch z := v.(type) {
	case []map[string]any:
		groups = z
	case []any:
		for _, x := range z {
			m, ok := x.(map[string]any)
			if !ok {
				p.fail("sweep.zip", v, "must be an array of tables: [[sweep.zip]]")
				return nil
			}
			groups = append(groups, m)
		}
	default:
		p.fail("sweep.zip", v, "must be an array of tables, one per linked group: write [[sweep.zip]], not [sweep.zip]")
		return nil
	}
	var axes []Axis
	for i, table := range groups {
		path := fmt.Sprintf("sweep.zip[%d]", i)
		flat := p.flattenTable(path, table, "")
		if len(flat) == 0 && len(table) == 0 {
			p.fail(path, nil, "empty zip group: list the linked keys")
			continue
		}
		keys := slices.SortedFunc(maps.Keys(flat), func(a, b string) int {
			return cmpOrder(order, "zip."+a, "zip."+b)
		})
		if group, ok := p.zipGroup(path, keys, flat, seen); ok {
			axes = append(axes, group)
		}
	}
	return axes
}

func (p *fileParser) zipGroup(path string, keys []string, flat map[string]any, seen map[string]string) (Axis, bool) {
	var group Axis
	ok := true
	var lengths []string
	for _, k := range keys {
		ax, good := p.axis(k, path+"."+k, flat[k], seen, false)
		if !good {
			ok = false
			continue
		}
		lengths = append(lengths, fmt.Sprintf("%s has %d", k, len(ax.Values)))
		if len(group.Keys) > 0 && len(ax.Values) != len(group.Values) {
			ok = false
			continue
		}
		group.Keys = append(group.Keys, k)
		group.srcs = append(group.srcs, ax.srcs[0])
		if group.Values == nil {
			group.Values = make([][]any, len(ax.Values))
		}
		for j, pt := range ax.Values {
			group.Values[j] = append(group.Values[j], pt[0])
		}
	}
	if !ok {
		if len(lengths) == len(keys) {
			p.fail(path, nil, "linked axes must have equal lengths: "+strings.Join(lengths, ", "))
		}
		return Axis{}, false
	}
	for j, pt := range group.Values {
		for i := range j {
			if slices.EqualFunc(group.Values[i], pt, equalValues) {
				p.fail(fmt.Sprintf("%s[%d]", path, j), pt, fmt.Sprintf("repeats position %d of the linked axes (%s): the runs would be the same", i, strings.Join(group.Keys, ", ")))
				ok = false
			}
		}
	}
	return group, ok
}

func (p *fileParser) claims(v any) []Claim {
	var tables []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		tables = x
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				p.fail("expect", v, "must be an array of tables: [[expect]]")
				return nil
			}
			tables = append(tables, m)
		}
	default:
		p.fail("expect", v, "must be an array of tables, one per claim: write [[expect]], not [expect]")
		return nil
	}
	claims := make([]Claim, 0, len(tables))
	for i, t := range tables {
		claims = append(claims, p.claim(i, t))
	}
	return claims
}

func (p *fileParser) claim(i int, t map[string]any) Claim {
	c := Claim{file: p.path, index: i, lines: p.lines}
	path := "expect[" + strconv.Itoa(i) + "]"
	for _, k := range slices.Sorted(maps.Keys(t)) {
		v, kp := t[k], path+"."+k
		switch k {
		case "metric":
			c.Metric = p.str(kp, v)
		case "at":
			if n, ok := v.(int64); ok && n >= 1 && n <= 1<<20 {
				c.At = int(n)
			} else if v == "train.loops" {
				c.AtTrainLoops = true
			} else {
				p.fail(kp, v, `must be an inference loop count ≥ 1, or "train.loops" for each run's own training loop count (leave it out for the last loop)`)
			}
		case "increases_with":
			c.IncreasesWith = p.str(kp, v)
		case "where":
			c.Where = p.str(kp, v)
		case "description":
			c.Description = p.str(kp, v)
		case "min_effect":
			c.MinEffect = p.minEffect(kp, v)
		case "within":
			a, b, x := p.pair(kp, v, "delta")
			c.Within = &Within{A: a, B: b, Delta: x}
		case "greater":
			a, b, x := p.pair(kp, v, "margin")
			c.Greater = &Greater{A: a, B: b, Margin: x}
		default:
			p.fail(kp, v, "unknown claim field"+suggest(k, claimKeys))
		}
	}
	return c
}

var claimKeys = []string{"metric", "at", "increases_with", "within", "greater", "where", "min_effect", "description"}

// minEffect reads min_effect: an effect size in the units of a proportion.
func (p *fileParser) minEffect(path string, v any) float64 {
	x, ok := p.number(path, v)
	if ok && !(x > 0 && x <= 1) {
		p.fail(path, v, "must be greater than 0 and at most 1: the smallest effect worth finding, in the metric's units (every claim metric is a proportion)")
		return 0
	}
	return x
}

// number reads an integer or float TOML value as a float64.
func (p *fileParser) number(path string, v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	p.fail(path, v, "must be a number, not "+tomlType(v))
	return 0, false
}

// pair reads {a = "…", b = "…", <num> = x}.
func (p *fileParser) pair(path string, v any, num string) (a, b string, x float64) {
	t, ok := v.(map[string]any)
	if !ok {
		p.fail(path, v, fmt.Sprintf(`must be a table {a = "key=value", b = "key=value", %s = 0.05}`, num))
		return
	}
	for _, k := range slices.Sorted(maps.Keys(t)) {
		kp := path + "." + k
		switch k {
		case "a":
			a = p.str(kp, t[k])
		case "b":
			b = p.str(kp, t[k])
		case num:
			x, _ = p.number(kp, t[k])
		default:
			p.fail(kp, t[k], "unknown field"+suggest(k, []string{"a", "b", num}))
		}
	}
	return a, b, x
}
