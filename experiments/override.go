package experiments

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// applyOverride applies one --set argument ("train.steps=200") to the grid.
// The value is typed like the key's field: a TOML value ("200", "true",
// `["a", "b"]`), or bare text for a string key ("cuda:0"). An override fixes
// the key for every run, so a sweep over that key is removed (a zip group
// keeps its other keys linked). "seeds=[1, 2]" replaces the seeds.
func (g *Grid) applyOverride(arg string) *FieldError {
	key, text, ok := strings.Cut(arg, "=")
	key, text = strings.TrimSpace(key), strings.TrimSpace(text)
	fail := func(text, rule string) *FieldError {
		return &FieldError{Set: arg, Key: key, Value: text, Rule: rule}
	}
	if !ok || key == "" {
		return &FieldError{Set: arg, Key: "--set", Rule: "want key=value, e.g. --set train.steps=200"}
	}
	if key == "seeds" {
		seeds, rule := parseSeedsText(text)
		if rule != "" {
			return fail(text, rule)
		}
		g.Seeds = seeds
		g.Overrides = append(g.Overrides, arg)
		return nil
	}
	f, msg := lookup(key)
	switch {
	case key == seedKey:
		return fail(text, "the run seeds are set with seeds=[…]")
	case f == nil:
		return fail(text, msg)
	}
	v, rule := f.parseText(text)
	if rule != "" {
		return fail(text, rule)
	}
	g.assign(assignment{key: key, value: v, src: source{set: arg}})
	axes := g.Axes[:0:0]
	for _, ax := range g.Axes {
		if ax = ax.without(key); len(ax.Keys) > 0 {
			axes = append(axes, ax)
		}
	}
	g.Axes = axes
	g.Overrides = append(g.Overrides, arg)
	return nil
}

// parseSeedsText reads "[1, 2, 3]" or a single "7".
func parseSeedsText(text string) ([]int64, string) {
	var doc map[string]any
	if _, err := toml.Decode("v = "+text, &doc); err != nil || len(doc) != 1 {
		return nil, "must be a list of integers, e.g. seeds=[1,2,3]"
	}
	list, ok := doc["v"].([]any)
	if !ok {
		list = []any{doc["v"]}
	}
	if len(list) == 0 {
		return nil, "must list at least one seed"
	}
	var seeds []int64
	for _, x := range list {
		n, ok := x.(int64)
		if !ok {
			return nil, "a seed must be an integer, not " + tomlType(x)
		}
		if slices.Contains(seeds, n) {
			return nil, fmt.Sprintf("seed %d is listed twice", n)
		}
		seeds = append(seeds, n)
	}
	return seeds, ""
}
