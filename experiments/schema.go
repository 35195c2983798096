package experiments

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// The schema is read from the config structs' tags once, so a field added to
// TaskConfig (or any section) is settable, sweepable, overridable and
// selectable without touching this package's code.

// kind is the type a key's value must have.
type kind int

const (
	kindInt kind = iota
	kindInt64
	kindFloat
	kindString
	kindBool
	kindStrings
)

func (k kind) String() string {
	return [...]string{"an integer", "an integer", "a number", "a string", "a boolean", "a list of strings"}[k]
}

// field is one dotted key of a RunSpec.
type field struct {
	key      string // "train.loops"
	path     []int  // reflect field index from RunSpec
	kind     kind
	identity bool // part of the canonical JSON (and so of the run id)
	// json is the field's place in a run's JSON: section and name.
	json [2]string
	// omitAt, when omits is set, is the value at which canonical JSON
	// leaves the key out (the omitid tag, typed like the key).
	omitAt any
	omits  bool
}

// schema lists every key of a RunSpec in struct order.
type schema struct {
	fields []field
	byKey  map[string]*field
	// unsupported names config fields whose Go type has no grid kind, or
	// whose omitid tag does not parse as a value of it; a test keeps it
	// empty, so a new field of a new type is noticed at once.
	unsupported []string
}

// seedKey is the run seed: selectable and readable with Get, but set only by
// the grid's top-level seeds list.
const seedKey = "seed"

var runSchema = sync.OnceValue(buildSchema)

func buildSchema() *schema {
	s := &schema{byKey: map[string]*field{}}
	rt := reflect.TypeFor[RunSpec]()
	for i := range rt.NumField() {
		sec := rt.Field(i)
		secName := tagName(sec.Tag.Get("json"))
		if sec.Name == "Seed" {
			s.fields = append(s.fields, field{key: seedKey, path: []int{i}, kind: kindInt64, identity: true})
			continue
		}
		if sec.Type.Kind() != reflect.Struct {
			continue
		}
		for j := range sec.Type.NumField() {
			f := sec.Type.Field(j)
			name := tagName(f.Tag.Get("toml"))
			if name == "" || !f.IsExported() {
				continue
			}
			k, ok := kindOf(f.Type)
			if !ok {
				s.unsupported = append(s.unsupported, secName+"."+name)
				continue
			}
			fd := field{
				key:      secName + "." + name,
				path:     []int{i, j},
				kind:     k,
				identity: f.Tag.Get("json") != "-",
				json:     [2]string{secName, tagName(f.Tag.Get("json"))},
			}
			if tag, ok := f.Tag.Lookup("omitid"); ok && !fd.setOmitID(tag) {
				s.unsupported = append(s.unsupported, fmt.Sprintf("%s (omitid %q)", fd.key, tag))
			}
			s.fields = append(s.fields, fd)
		}
	}
	for i := range s.fields {
		s.byKey[s.fields[i].key] = &s.fields[i]
	}
	return s
}

// setOmitID types an omitid tag's value like the key, reporting false when
// it is not one of the key's values.
func (f *field) setOmitID(tag string) bool {
	v, msg := f.parseText(tag)
	f.omitAt, f.omits = v, msg == ""
	return f.omits
}

func tagName(tag string) string {
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	return name
}

func kindOf(t reflect.Type) (kind, bool) {
	switch t.Kind() {
	case reflect.Int:
		return kindInt, true
	case reflect.Int64:
		return kindInt64, true
	case reflect.Float64:
		return kindFloat, true
	case reflect.String:
		return kindString, true
	case reflect.Bool:
		return kindBool, true
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return kindStrings, true
		}
	}
	return 0, false
}

// sections are the config tables of a grid file, in RunSpec order.
var sections = []string{"task", "model", "train", "eval"}

// Keys returns every dotted key of a run in struct order: "seed", then
// "task.name" … "eval.samples".
func Keys() []string {
	s := runSchema()
	keys := make([]string, len(s.fields))
	for i, f := range s.fields {
		keys[i] = f.key
	}
	return keys
}

// lookup finds a key, with a hint naming the closest real key when there is
// no such key.
func lookup(key string) (*field, string) {
	if f, ok := runSchema().byKey[key]; ok {
		return f, ""
	}
	return nil, "unknown key" + suggest(key, Keys())
}

// suggest returns ` (did you mean "x"?)` for the key closest to name.
func suggest(name string, candidates []string) string {
	return suggestAs("keys", name, candidates)
}

// suggestAs is suggest for candidates of any sort; what names them when
// the only difference is case.
func suggestAs(what, name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return fmt.Sprintf(" (did you mean %q? %s are case-sensitive)", c, what)
		}
		if len(name) >= 3 && (strings.HasPrefix(c, name) || strings.HasPrefix(name, c)) {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// convert types a decoded TOML value for f, or says why it cannot be.
func (f *field) convert(v any) (any, string) {
	switch f.kind {
	case kindInt, kindInt64:
		n, ok := v.(int64)
		if !ok {
			return nil, "must be " + f.kind.String() + ", not " + tomlType(v)
		}
		if f.kind == kindInt && (n > math.MaxInt || n < math.MinInt) {
			return nil, "is out of range"
		}
		if f.kind == kindInt {
			return int(n), ""
		}
		return n, ""
	case kindFloat:
		switch n := v.(type) {
		case float64:
			if n == 0 {
				return 0.0, "" // -0 and 0 are one value, and one run id
			}
			return n, ""
		case int64:
			return float64(n), ""
		}
	case kindString:
		if s, ok := v.(string); ok {
			return s, ""
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return b, ""
		}
	case kindStrings:
		list, ok := v.([]any)
		if !ok {
			break
		}
		out := make([]string, 0, len(list))
		for _, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, "must be a list of strings, not a list holding " + tomlType(x)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return []string(nil), ""
		}
		return out, ""
	}
	return nil, "must be " + f.kind.String() + ", not " + tomlType(v)
}

// parseText types a command-line value ("200", "hrm", "[\"a\"]") for f: as a
// TOML value when it is one, else, for string keys, as the bare text.
func (f *field) parseText(text string) (any, string) {
	var doc map[string]any
	_, err := toml.Decode("v = "+text, &doc)
	v, ok := doc["v"]
	if err != nil || !ok || len(doc) != 1 {
		if f.kind == kindString {
			return text, ""
		}
		return nil, "must be " + f.kind.String()
	}
	if _, isString := v.(string); f.kind == kindString && !isString {
		return text, ""
	}
	return f.convert(v)
}

func tomlType(v any) string {
	switch v.(type) {
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any, []map[string]any:
		return "a table"
	}
	return "a date or time"
}

// set stores a converted value in r, reporting false (and storing nothing)
// when v is not of the field's kind.
func (f *field) set(r *RunSpec, v any) bool {
	dst := reflect.ValueOf(r).Elem().FieldByIndex(f.path)
	src := reflect.ValueOf(v)
	if !src.IsValid() || src.Kind() != dst.Kind() ||
		src.Kind() == reflect.Slice && src.Type().Elem().Kind() != dst.Type().Elem().Kind() {
		return false
	}
	dst.Set(src.Convert(dst.Type()))
	return true
}

// get reads f from r as a plain Go value (int, int64, float64, string, bool
// or a copied []string), whatever named type the field has.
func (f *field) get(r *RunSpec) any {
	v := reflect.ValueOf(r).Elem().FieldByIndex(f.path)
	switch f.kind {
	case kindInt:
		return int(v.Int())
	case kindInt64:
		return v.Int()
	case kindFloat:
		return v.Float()
	case kindString:
		return v.String()
	case kindBool:
		return v.Bool()
	}
	ss := make([]string, v.Len())
	for i := range ss {
		ss[i] = v.Index(i).String()
	}
	if len(ss) == 0 {
		return []string(nil)
	}
	return ss
}
