package experiments

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as a grid that may extend a
// fixed base grid (or itself). It must never panic, must return exactly one
// of a grid and an error, and a grid it accepts must expand to valid runs
// with distinct ids.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.toml")
	seeds = append(seeds, "../ablations/example.toml")
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("name = \"x\"\nextends = \"base.toml\"\n[sweep]\n\"train.loops\" = [1, 2]\n"))
	f.Add([]byte("name = \"x\"\nextends = \"grid.toml\"\n"))
	f.Add([]byte("[[sweep.zip]]\n\"a.b\" = [1]\n[[expect]]\nwithin = {a = \"\", b = \",\"}\n"))
	f.Add([]byte("name = \"x\"\n[sweep]\n\"model.heads\" = [0, 3]\n[[expect]]\nmetric = \"exact_accuracy\"\nincreases_with = \"seed\"\n"))
	base := []byte("seeds = [1]\n[model]\ncore = \"hrm\"\n[sweep]\n\"model.core\" = [\"hrm\", \"ut\"]\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		files := map[string][]byte{"grid.toml": data, "base.toml": base}
		l := &loader{read: func(p string) ([]byte, error) {
			if b, ok := files[filepath.Clean(p)]; ok {
				return b, nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}}
		g, err := l.load("grid.toml", []string{"eval.batch=8"})
		if (g == nil) == (err == nil) {
			t.Fatalf("load returned grid %v and error %v", g, err)
		}
		if err != nil {
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
			}
			return
		}
		runs, err := g.Expand()
		if err != nil {
			t.Fatalf("accepted grid fails Expand: %v", err)
		}
		ids := map[string]bool{}
		for _, r := range runs {
			if err := r.Validate(); err != nil || ids[r.ID] {
				t.Fatalf("run %s: duplicate %v, Validate %v", r.ID, ids[r.ID], err)
			}
			ids[r.ID] = true
		}
	})
}

// FuzzScanKeyLines runs the line scanner on arbitrary text, valid TOML or
// not: it must neither panic nor loop, and every line it reports must exist.
func FuzzScanKeyLines(f *testing.F) {
	f.Add("a = 1\n[b]\nc = [1,\n2]\n")
	f.Add("x = \"\"\"\nunterminated")
	f.Add("[[a.b]]\n[a.b.c]\nd = {e = [{f = 1}]}\n")
	f.Add("k = \"\\")
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		for path, line := range scanKeyLines(src) {
			if line < 1 || line > lines {
				t.Fatalf("%s at line %d of %d", path, line, lines)
			}
		}
	})
}
