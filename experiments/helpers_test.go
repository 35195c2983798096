package experiments

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeGrid writes a grid file into dir and returns its path.
func writeGrid(tb testing.TB, dir, name, content string) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// MustLoadGrid writes content as grid.toml in a fresh directory and loads it.
func MustLoadGrid(tb testing.TB, content string, overrides ...string) *Grid {
	tb.Helper()
	g, err := Load(writeGrid(tb, tb.TempDir(), "grid.toml", content), overrides)
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return g
}

// MustExpand loads content and expands it.
func MustExpand(tb testing.TB, content string, overrides ...string) []RunSpec {
	tb.Helper()
	runs, err := MustLoadGrid(tb, content, overrides...).Expand()
	if err != nil {
		tb.Fatalf("Expand: %v", err)
	}
	return runs
}

// fieldErrors unpacks err as Errors, failing the test if it is not one.
func fieldErrors(tb testing.TB, err error) Errors {
	tb.Helper()
	var es Errors
	if !errors.As(err, &es) {
		tb.Fatalf("error %v (%T) is not Errors", err, err)
	}
	return es
}

// findError returns the first error for key whose message contains rule.
func findError(es Errors, key, rule string) *FieldError {
	for _, e := range es {
		if e.Key == key && strings.Contains(e.Error(), rule) {
			return e
		}
	}
	return nil
}
