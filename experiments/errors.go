package experiments

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// FieldError is one problem with one key of a grid or run configuration. It
// names where the offending value was written, so a researcher can go
// straight to it: a file and line, a --set argument, or neither when the value
// is a default.
type FieldError struct {
	// File is the grid file the value was written in ("" for a default or an
	// override).
	File string
	// Line is the 1-based line in File (0 when it cannot be found).
	Line int
	// Set is the --set argument the value came from, if any.
	Set string
	// Key is the dotted key, e.g. "train.loops" or "expect[0].within.a".
	Key string
	// Value is the offending value as TOML writes it ("" when there is none,
	// e.g. a missing key).
	Value string
	// Rule says what the value violates.
	Rule string

	// related are other keys the rule involves; when Key itself has no
	// written source, the error is located at the first of these that has.
	related []string
}

// Error formats the error as "file:line: key = value: rule".
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.Set != "":
		fmt.Fprintf(&b, "--set %s: ", e.Set)
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	}
	b.WriteString(e.Key)
	if e.Value != "" {
		b.WriteString(" = ")
		b.WriteString(e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Rule)
	return b.String()
}

// Errors is every problem found in one pass, sorted by file, line and key.
type Errors []*FieldError

// Error prints one error per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sorted orders the errors by file, line, key and text, and drops exact
// duplicates (the same bad base value fails in every expanded run).
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	slices.SortStableFunc(out, func(a, b *FieldError) int {
		return cmp.Or(
			cmp.Compare(a.Set, b.Set),
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Key, b.Key),
			cmp.Compare(a.Error(), b.Error()),
		)
	})
	return slices.CompactFunc(out, func(a, b *FieldError) bool { return a.Error() == b.Error() })
}

// asError returns nil for no errors, so callers never see a typed nil.
func (es Errors) asError() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}

// render writes a value the way it would appear in a TOML file.
func render(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return strconv.Quote(v)
	case float64:
		switch {
		case math.IsNaN(v):
			return "nan"
		case math.IsInf(v, 1):
			return "inf"
		case math.IsInf(v, -1):
			return "-inf"
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = render(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return "{…}"
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.String {
		return strconv.Quote(rv.String()) // an enumeration's named type
	}
	return fmt.Sprint(v)
}

// checker collects field errors for the Validate methods.
type checker struct {
	errs Errors
}

func (c *checker) add(key string, value any, rule string, related ...string) {
	c.errs = append(c.errs, &FieldError{Key: key, Value: render(value), Rule: rule, related: related})
}

// oneOf requires v to be one of its enumeration's values, suggesting the
// closest one for a typo.
func oneOf[T Enum[T]](c *checker, key string, v T) {
	allowed := valueNames(v)
	if !slices.Contains(allowed, string(v)) {
		c.add(key, v, "must be one of "+quoteAll(allowed)+suggestAs("values", string(v), allowed))
	}
}

func (c *checker) atLeast(key string, v, lo int, why string) {
	if v < lo {
		c.add(key, v, fmt.Sprintf("must be at least %d (%s)", lo, why))
	}
}

func (c *checker) finite(key string, v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		c.add(key, v, "must be a finite number")
		return false
	}
	return true
}

// positive requires a finite v > 0.
func (c *checker) positive(key string, v float64) {
	if c.finite(key, v) && v <= 0 {
		c.add(key, v, "must be greater than 0")
	}
}

// nonNegative requires a finite v ≥ 0.
func (c *checker) nonNegative(key string, v float64) {
	if c.finite(key, v) && v < 0 {
		c.add(key, v, "must be at least 0")
	}
}

// unit requires v in [0, 1], or [0, 1) when open is set.
func (c *checker) unit(key string, v float64, open bool) {
	if !c.finite(key, v) {
		return
	}
	if open && (v < 0 || v >= 1) {
		c.add(key, v, "must be in [0, 1)")
	} else if !open && (v < 0 || v > 1) {
		c.add(key, v, "must be in [0, 1]")
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, " | ")
}
