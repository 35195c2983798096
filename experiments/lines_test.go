package experiments

import "testing"

func TestScanKeyLines(t *testing.T) {
	src := `name = "t"   # comment [not.a.table]
seeds = [1,
  2]
description = """
[fake]
x = 1
"""
[model]
core = "trm"
"quoted.key" = 1
a.b = 'lit'
[sweep]
"train.loops" = [
  1, # one
  4,
]
model.core = ["trm"]
[[sweep.zip]]
"train.steps" = [1]
[[sweep.zip]]
'train.lr' = [1.0]
[[expect]]
within = {a = "x=1", b = "y", delta = 0.1}
[expect.greater]
a = "z"
[[expect]]
metric = "m"
`
	lines := scanKeyLines(src)
	for _, tt := range []struct {
		path string
		want int
	}{
		{"name", 1},
		{"seeds", 2},
		{"seeds[1]", 3},
		{"description", 4},
		{"fake", 0},
		{"x", 0},
		{"model", 8},
		{"model.core", 9},
		{"model.quoted.key", 10},
		{"model.a.b", 11},
		{"sweep.train.loops", 13},
		{"sweep.train.loops[1]", 15},
		{"sweep.model.core", 17},
		{"sweep.zip[0].train.steps", 19},
		{"sweep.zip[1]", 20},
		{"sweep.zip[1].train.lr", 21},
		{"expect[0].within.delta", 23},
		{"expect[0].greater.a", 25},
		{"expect[1].metric", 27},
	} {
		if got := lines[tt.path]; got != tt.want {
			t.Fatalf("line of %s = %d, want %d", tt.path, got, tt.want)
		}
	}
	for _, tt := range []struct {
		path string
		want int
	}{
		{"expect[0].within.a", 23},
		{"sweep.train.loops[7]", 13},
		{"model.core.deeper", 9},
		{"nowhere", 0},
	} {
		if got := lines.find(tt.path); got != tt.want {
			t.Fatalf("find(%s) = %d, want %d", tt.path, got, tt.want)
		}
	}
}
