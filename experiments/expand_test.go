package experiments

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestExpandCounts(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want int
	}{
		{"defaults only", `name = "t"`, 1},
		{"seeds", "name = \"t\"\nseeds = [1, 2, 3]", 3},
		{"one axis", "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2, 4, 8]", 4},
		{"product", "name = \"t\"\nseeds = [1, 2]\n[sweep]\n\"train.loops\" = [1, 2, 4]\n\"model.core\" = [\"trm\", \"transformer\"]", 12},
		{"zip is linked", "name = \"t\"\n[[sweep.zip]]\n\"train.loops\" = [1, 2, 4]\n\"train.steps\" = [400, 200, 100]", 3},
		{"sweep × zip × seeds", "name = \"t\"\nseeds = [1, 2]\n[sweep]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[sweep.zip]]\n\"train.loops\" = [1, 2, 4]\n\"train.steps\" = [400, 200, 100]", 12},
		{"two zips", "name = \"t\"\n[[sweep.zip]]\n\"train.loops\" = [1, 2]\n\"train.steps\" = [20, 10]\n[[sweep.zip]]\n\"model.h_cycles\" = [1, 2, 3]\n\"model.l_cycles\" = [1, 2, 3]", 6},
		{"dotted sweep keys", "name = \"t\"\n[sweep]\ntrain.loops = [1, 2]\nmodel.core = [\"trm\", \"ut\"]", 4},
		{"list-valued axis", "name = \"t\"\n[task]\nname = \"arc-lite\"\nsize = 8\n[sweep]\n\"task.families\" = [[\"gravity\"], [\"gravity\", \"flood\"], []]", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := MustExpand(t, tt.toml)
			if got := len(runs); got != tt.want {
				t.Fatalf("len(runs) = %d, want %d", got, tt.want)
			}
			ids := map[string]bool{}
			for _, r := range runs {
				if len(r.ID) != 64 || ids[r.ID] {
					t.Fatalf("run id %q is not a fresh sha256", r.ID)
				}
				ids[r.ID] = true
				if err := r.Validate(); err != nil {
					t.Fatalf("expanded run fails Validate: %v", err)
				}
				if r.Grid != "t" {
					t.Fatalf("run.Grid = %q, want %q", r.Grid, "t")
				}
			}
		})
	}
}

func TestExpandOrderAndValues(t *testing.T) {
	runs := MustExpand(t, `name = "t"
seeds = [7, 3]
[sweep]
"model.core" = ["transformer", "trm"]
[[sweep.zip]]
"train.loops" = [1, 4]
"train.steps" = [400, 100]
`)
	var got []string
	for _, r := range runs {
		got = append(got, fmt.Sprintf("%s/%d/%d/%d", r.Model.Core, r.Train.Loops, r.Train.Steps, r.Seed))
	}
	want := []string{
		"transformer/1/400/7", "transformer/1/400/3", "transformer/4/100/7", "transformer/4/100/3",
		"trm/1/400/7", "trm/1/400/3", "trm/4/100/7", "trm/4/100/3",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("runs = %v, want %v", got, want)
	}
	again := MustExpand(t, `name = "t"
seeds = [7, 3]
[sweep]
"model.core" = ["transformer", "trm"]
[[sweep.zip]]
"train.loops" = [1, 4]
"train.steps" = [400, 100]
`)
	for i := range runs {
		if runs[i].ID != again[i].ID {
			t.Fatalf("run %d id %s then %s: expansion is not deterministic", i, runs[i].ID, again[i].ID)
		}
	}
}

// TestIDsIgnoreLayout checks that key order, whitespace, comments, dotted vs
// sectioned keys and the grid's name do not change run ids.
func TestIDsIgnoreLayout(t *testing.T) {
	a := MustExpand(t, `name = "a"
seeds = [1, 2]
[model]
core = "hrm"
hidden = 128
heads = 8
[train]
loops = 2
lr = 1e-4
[sweep]
"eval.loops" = [8, 16]
"train.steps" = [100, 200]
`)
	b := MustExpand(t, `# the same grid, written differently
name="b"
  seeds = [2, 1]
[sweep]
train.steps=[ 200,100 ]
eval.loops = [16,
              8]

[train]
lr    = 0.0001     # 1e-4
loops = 2

[model]
heads  = 8
hidden = 128
core   = "hrm"
`)
	if len(b) != len(a) {
		t.Fatalf("len = %d and %d", len(a), len(b))
	}
	ids := func(runs []RunSpec) []string {
		var out []string
		for _, r := range runs {
			out = append(out, r.ID)
		}
		slices.Sort(out)
		return out
	}
	if got, want := ids(b), ids(a); !slices.Equal(got, want) {
		t.Fatalf("ids differ with layout:\n%v\n%v", got, want)
	}
}

func TestSameConfigSameIDAcrossGrids(t *testing.T) {
	explicit := MustExpand(t, "name = \"explicit\"\n[train]\nloops = 4\nsteps = 1000\n[model]\ncore = \"trm\"\n")
	implicit := MustExpand(t, `name = "implicit"`)
	if explicit[0].ID != implicit[0].ID {
		t.Fatalf("a grid spelling out the defaults gets id %s, the bare grid %s", explicit[0].ID, implicit[0].ID)
	}
	def := DefaultRunSpec()
	id, err := def.Hash()
	if err != nil {
		t.Fatal(err)
	}
	if implicit[0].ID != id {
		t.Fatalf("bare grid id %s, DefaultRunSpec().Hash() %s", implicit[0].ID, id)
	}
}

func TestExtends(t *testing.T) {
	dir := t.TempDir()
	writeGrid(t, dir, "base/base.toml", `name = "base"
title = "Base title"
seeds = [1, 2]
[model]
hidden = 128
heads = 8
[train]
steps = 500
[sweep]
"model.core" = ["trm", "hrm"]
"train.lr" = [1e-4, 3e-4]
[[sweep.zip]]
"train.loops" = [1, 4]
"train.warmup" = [10, 40]
[[expect]]
metric = "exact_accuracy"
increases_with = "train.loops"
`)
	path := writeGrid(t, dir, "child.toml", `name = "child"
extends = "base/base.toml"
[model]
hidden = 64
[train]
warmup = 5
lr = 1e-3
[sweep]
"model.core" = ["transformer", "trm"]
`)
	g, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "child" || g.Title != "Base title" || !slices.Equal(g.Seeds, []int64{1, 2}) {
		t.Fatalf("name %q title %q seeds %v: want the child's name, the base's title and seeds", g.Name, g.Title, g.Seeds)
	}
	if got, want := g.Extends, []string{filepath.Join(dir, "base/base.toml")}; !slices.Equal(got, want) {
		t.Fatalf("Extends = %v, want %v", got, want)
	}
	var axes []string
	for _, ax := range g.Axes {
		axes = append(axes, strings.Join(ax.Keys, "+"))
	}
	// train.lr is fixed by the child, train.warmup leaves the zip group,
	// model.core is replaced by the child's axis.
	if got, want := strings.Join(axes, " "), "train.loops model.core"; got != want {
		t.Fatalf("axes = %q, want %q", got, want)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(runs), 2*2*2; got != want {
		t.Fatalf("len(runs) = %d, want %d", got, want)
	}
	for _, r := range runs {
		if r.Model.Hidden != 64 || r.Model.Heads != 8 || r.Train.Steps != 500 || r.Train.LR != 1e-3 || r.Train.Warmup != 5 {
			t.Fatalf("run %+v: want hidden 64 (child), heads 8 and steps 500 (base), lr 1e-3 and warmup 5 (child)", r)
		}
		if r.Model.Core == "hrm" {
			t.Fatalf("run has core hrm, which the child's axis replaced")
		}
	}
	if len(g.Expect) != 1 {
		t.Fatalf("Expect = %v, want the base's claim", g.Expect)
	}
}

func TestExtendsErrorsNameTheBaseFile(t *testing.T) {
	dir := t.TempDir()
	base := writeGrid(t, dir, "base.toml", "[model]\ncore = \"rnn\"\n")
	path := writeGrid(t, dir, "grid.toml", "name = \"t\"\nextends = \"base.toml\"\n[train]\nloops = 0\n")
	_, err := Load(path, nil)
	es := fieldErrors(t, err)
	if e := findError(es, "model.core", "must be one of"); e == nil || e.File != base || e.Line != 2 {
		t.Fatalf("errors:\n%v\nwant model.core at %s:2", err, base)
	}
	if e := findError(es, "train.loops", "at least 1"); e == nil || e.File != path || e.Line != 4 {
		t.Fatalf("errors:\n%v\nwant train.loops at %s:4", err, path)
	}
}

func TestExtendsCycle(t *testing.T) {
	dir := t.TempDir()
	writeGrid(t, dir, "a.toml", "name = \"a\"\nextends = \"b.toml\"\n")
	writeGrid(t, dir, "b.toml", "\n\nextends = \"a.toml\"\n")
	_, err := Load(filepath.Join(dir, "a.toml"), nil)
	es := fieldErrors(t, err)
	e := findError(es, "extends", "extends cycle")
	if e == nil || e.File != filepath.Join(dir, "b.toml") || e.Line != 3 {
		t.Fatalf("errors:\n%v\nwant an extends cycle at b.toml:3", err)
	}
	self := writeGrid(t, dir, "self.toml", "name = \"s\"\nextends = \"./self.toml\"\n")
	if _, err := Load(self, nil); err == nil || !strings.Contains(err.Error(), "extends cycle") {
		t.Fatalf("self-extending grid: %v, want an extends cycle", err)
	}
}

func TestOverrides(t *testing.T) {
	grid := `name = "t"
seeds = [1, 2]
[sweep]
"model.core" = ["trm", "transformer"]
[[sweep.zip]]
"train.loops" = [1, 4]
"train.steps" = [400, 100]
`
	tests := []struct {
		name  string
		set   []string
		runs  int
		check func(RunSpec) bool
	}{
		{"typed int", []string{"eval.loops=32"}, 8, func(r RunSpec) bool { return r.Eval.Loops == 32 }},
		{"float from int text", []string{"train.lr=1"}, 8, func(r RunSpec) bool { return r.Train.LR == 1 }},
		{"float", []string{"train.lr = 1e-3"}, 8, func(r RunSpec) bool { return r.Train.LR == 1e-3 }},
		{"bool", []string{"train.ema=true"}, 8, func(r RunSpec) bool { return r.Train.EMA }},
		{"bare string", []string{"train.device=cuda:1"}, 8, func(r RunSpec) bool { return r.Train.Device == "cuda:1" }},
		{"quoted string", []string{`model.pos="none"`}, 8, func(r RunSpec) bool { return r.Model.Pos == "none" }},
		{"list", []string{`task.name=arc-lite`, `task.size=8`, `task.families=["gravity"]`}, 8, func(r RunSpec) bool { return slices.Equal(r.Task.Families, []string{"gravity"}) }},
		{"last wins", []string{"train.batch=8", "train.batch=16"}, 8, func(r RunSpec) bool { return r.Train.Batch == 16 }},
		{"fixes a swept key", []string{"model.core=hrm"}, 4, func(r RunSpec) bool { return r.Model.Core == "hrm" }},
		{"fixes a zipped key, the rest stays linked", []string{"train.steps=50"}, 8, func(r RunSpec) bool { return r.Train.Steps == 50 }},
		{"seeds", []string{"seeds=[5]"}, 4, func(r RunSpec) bool { return r.Seed == 5 }},
		{"threads", []string{"train.threads=2"}, 8, func(r RunSpec) bool { return r.Train.Threads == 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := MustLoadGrid(t, grid, tt.set...)
			runs, err := g.Expand()
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.runs {
				t.Fatalf("len(runs) = %d, want %d", len(runs), tt.runs)
			}
			for _, r := range runs {
				if !tt.check(r) {
					t.Fatalf("run %+v does not carry the override %v", r, tt.set)
				}
			}
			if !slices.Equal(g.Overrides, tt.set) {
				t.Fatalf("Overrides = %v, want %v", g.Overrides, tt.set)
			}
		})
	}
}

func TestOverrideThreadsKeepsIDs(t *testing.T) {
	a := MustExpand(t, `name = "t"`)
	b := MustExpand(t, `name = "t"`, "train.threads=3")
	if a[0].ID != b[0].ID {
		t.Fatalf("train.threads changed the run id: %s vs %s", a[0].ID, b[0].ID)
	}
}

func TestBadOverrides(t *testing.T) {
	tests := []struct {
		set, key, rule string
	}{
		{"train.steps", "--set", "want key=value"},
		{"=3", "--set", "want key=value"},
		{"train.stepz=3", "train.stepz", `unknown key (did you mean "train.steps"?)`},
		{"train.steps=many", "train.steps", "must be an integer"},
		{"train.steps=1.5", "train.steps", "must be an integer, not a float"},
		{"train.ema=yes", "train.ema", "must be a boolean"},
		{"train.loops=0", "train.loops", "must be at least 1"},
		{"model.core=rnn", "model.core", "must be one of"},
		{"seed=3", "seed", "seeds=[…]"},
		{"seeds=[]", "seeds", "at least one seed"},
		{"seeds=[1, 1]", "seeds", "listed twice"},
		{"seeds=[\"a\"]", "seeds", "must be an integer"},
		{"task.families=gravity", "task.families", "must be a list of strings"},
		{"train.steps=1\nfoo = 2", "train.steps", "must be an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			path := writeGrid(t, t.TempDir(), "grid.toml", `name = "t"`)
			_, err := Load(path, []string{tt.set})
			es := fieldErrors(t, err)
			e := findError(es, tt.key, tt.rule)
			if e == nil {
				t.Fatalf("errors:\n%v\nwant one for %q containing %q", err, tt.key, tt.rule)
			}
			if e.Set != tt.set || !strings.HasPrefix(e.Error(), "--set "+tt.set+": ") {
				t.Fatalf("error %q does not name the override %q", e, tt.set)
			}
		})
	}
}

func TestClaimsAccepted(t *testing.T) {
	g := MustLoadGrid(t, `name = "t"
seeds = [1, 2, 3]
[sweep]
"model.core" = ["hrm", "trm", "transformer"]
"train.loops" = [1, 2, 4]
[[expect]]
metric = "exact_accuracy"
increases_with = "train.loops"
where = "model.core=trm"
description = "loops help TRM"
[[expect]]
metric = "exact_accuracy"
increases_with = "eval.loops"
[[expect]]
metric = "exact_accuracy"
at = 4
within = {a = "model.core=hrm", b = "model.core=transformer", delta = 0.05}
[[expect]]
metric = "token_accuracy"
greater = {a = "model.core=trm,train.loops=4", b = "model.core=hrm , train.loops=4"}
`)
	if got := len(g.Expect); got != 4 {
		t.Fatalf("len(Expect) = %d, want 4", got)
	}
	kinds := []string{"increases_with", "increases_with", "within", "greater"}
	for i, c := range g.Expect {
		if c.Kind() != kinds[i] {
			t.Fatalf("claim %d kind %q, want %q", i, c.Kind(), kinds[i])
		}
	}
	c := g.Expect[2]
	if c.Within.A != "model.core=hrm" || c.Within.Delta != 0.05 || c.At != 4 {
		t.Fatalf("claim 2 = %+v", c)
	}
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AtLoop(runs[0]); got != 4 {
		t.Fatalf("AtLoop = %d, want 4", got)
	}
	if got := g.Expect[0].AtLoop(runs[0]); got != 16 {
		t.Fatalf("AtLoop without at = %d, want eval.loops 16", got)
	}
	a, err := Select(runs, g.Expect[3].Greater.A)
	if err != nil || len(a) != 3 {
		t.Fatalf("Select(%q) = %d runs, %v; want 3 (one per seed)", g.Expect[3].Greater.A, len(a), err)
	}
}

// TestSourceDir checks the one rule for relative task.source paths: the
// folder of the file that set the value, or the working directory for
// --set.
func TestSourceDir(t *testing.T) {
	dir := t.TempDir()
	writeGrid(t, dir, "base/base.toml", "[task]\nsource = \"data/sudoku\"\n")
	path := writeGrid(t, dir, "grid.toml", "name = \"t\"\nextends = \"base/base.toml\"\n")
	tests := []struct {
		set  []string
		want string
	}{
		{nil, filepath.Join(dir, "base")},
		{[]string{"task.source=other/dir"}, ""},
	}
	for _, tt := range tests {
		g, err := Load(path, tt.set)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := g.Expand()
		if err != nil {
			t.Fatal(err)
		}
		if got := g.SourceDir(runs[0]); got != tt.want {
			t.Fatalf("SourceDir with %v = %q, want %q", tt.set, got, tt.want)
		}
	}
	swept := writeGrid(t, dir, "sub/swept.toml", "name = \"s\"\n[sweep]\n\"task.source\" = [\"a\", \"b\"]\n")
	g, err := Load(swept, nil)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := g.Expand()
	if got, want := g.SourceDir(runs[1]), filepath.Join(dir, "sub"); got != want {
		t.Fatalf("SourceDir of a swept source = %q, want %q", got, want)
	}
}

// TestExpandEditedGrid checks that a grid edited in code after Load is
// expanded from its fields, and that values of the wrong type are errors,
// not panics.
func TestExpandEditedGrid(t *testing.T) {
	g := MustLoadGrid(t, "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n")
	g.Seeds = []int64{1, 2, 3}
	runs, err := g.Expand()
	if err != nil || len(runs) != 6 {
		t.Fatalf("Expand after setting 3 seeds = %d runs, %v; want 6", len(runs), err)
	}
	g.Axes = append(g.Axes, Axis{Keys: []string{"model.core"}, Values: [][]any{{"trm"}, {7}}})
	_, err = g.Expand()
	if e := findError(fieldErrors(t, err), "model.core", "no value of the key's type"); e == nil {
		t.Fatalf("Expand with a mistyped axis value: %v, want an error naming model.core", err)
	}
}

func TestZipAllowsRepeatedValuesButNotRepeatedRuns(t *testing.T) {
	runs := MustExpand(t, "name = \"t\"\n[[sweep.zip]]\n\"train.lr\" = [1e-3, 1e-3, 3e-3]\n\"train.loss\" = [\"stablemax\", \"softmax\", \"softmax\"]\n")
	if len(runs) != 3 {
		t.Fatalf("runs = %d, want 3", len(runs))
	}
	path := writeGrid(t, t.TempDir(), "grid.toml", "name = \"t\"\n[[sweep.zip]]\n\"train.lr\" = [1e-3, 1e-3]\n\"train.loss\" = [\"softmax\", \"softmax\"]\n")
	_, err := Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "repeats position 0") {
		t.Fatalf("error = %v, want one about a repeated position", err)
	}
}

func TestClaimAtTrainLoops(t *testing.T) {
	g := MustLoadGrid(t, "name = \"t\"\nseeds = [1, 2, 3]\n[eval]\nloops = 8\n[sweep]\n\"train.loops\" = [1, 4, 16]\n[[expect]]\nmetric = \"exact_accuracy\"\nat = \"train.loops\"\nincreases_with = \"train.loops\"\n")
	runs, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	c := g.Expect[0]
	if !c.AtTrainLoops {
		t.Fatal(`at = "train.loops" was not recorded`)
	}
	for _, r := range runs {
		if got, want := c.AtLoop(r), min(r.Train.Loops, 8); got != want {
			t.Fatalf("AtLoop(train.loops=%d) = %d, want %d", r.Train.Loops, got, want)
		}
	}
}
