package tasks

import (
	"math/rand/v2"
	"testing"

	"outerloop/experiments"
)

// Each family's output follows its rule; the checks here restate the rule
// in a different way from the generator (what may change, and to what).
func TestLiteFamilies(t *testing.T) {
	checks := map[string]func(p Pair) string{
		"fill": func(p Pair) string {
			// Only background cells change, all to one colour, and none of
			// them is reachable from the border.
			outside := reachFromBorder(p.Input)
			for i, v := range p.Input.Cells {
				if o := p.Output.Cells[i]; o != v && (v != 0 || outside[i]) {
					return "changed a cell that is not enclosed background"
				}
			}
			return ""
		},
		"gravity": func(p Pair) string {
			// Falling moves cells but keeps how many of each colour.
			var in, out [10]int
			for i, v := range p.Input.Cells {
				in[v]++
				out[p.Output.Cells[i]]++
			}
			if in != out {
				return "colour counts changed"
			}
			return ""
		},
		"extend": func(p Pair) string {
			for i, v := range p.Input.Cells {
				if o := p.Output.Cells[i]; o != v && v != 0 {
					return "overwrote a coloured cell"
				}
			}
			return ""
		},
		"connect": func(p Pair) string {
			for i, v := range p.Input.Cells {
				if o := p.Output.Cells[i]; o != v && v != 0 {
					return "overwrote a dot"
				}
			}
			return ""
		},
		"recolour": func(p Pair) string {
			for i, v := range p.Input.Cells {
				if (v == 0) != (p.Output.Cells[i] == 0) {
					return "changed the object shapes"
				}
			}
			return ""
		},
	}
	for _, fam := range LiteFamilies() {
		check := checks[fam]
		if check == nil {
			t.Fatalf("family %s has no check", fam)
		}
		for seed := uint64(0); seed < 30; seed++ {
			task, err := GenerateLiteTask(rand.New(rand.NewPCG(seed, 1)), fam, 10)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := GenerateLiteTask(rand.New(rand.NewPCG(seed, 1)), fam, 10)
			if !tasksEqual(task, again) {
				t.Fatalf("%s seed %d: two generations differ", fam, seed)
			}
			if len(task.Train) != liteDemos || len(task.Test) != liteTests {
				t.Fatalf("%s: %d demos %d tests, want %d %d", fam, len(task.Train), len(task.Test), liteDemos, liteTests)
			}
			for i, p := range append(task.Train, task.Test...) {
				in, out := p.Input, p.Output
				if in.H != out.H || in.W != out.W || in.H < liteMinSide || in.H > 10 || in.W > 10 || in.Equal(out) {
					t.Fatalf("%s seed %d pair %d: %d×%d → %d×%d (equal %v)", fam, seed, i, in.H, in.W, out.H, out.W, in.Equal(out))
				}
				if msg := check(p); msg != "" {
					t.Fatalf("%s seed %d pair %d: %s\n%v→\n%v", fam, seed, i, msg, in, out)
				}
			}
		}
	}
	if _, err := GenerateLiteTask(rand.New(rand.NewPCG(1, 1)), "spiral", 10); err == nil {
		t.Fatalf("unknown family: got no error")
	}
	if _, err := GenerateLiteTask(rand.New(rand.NewPCG(1, 1)), "fill", 3); err == nil {
		t.Fatalf("size 3: got no error")
	}
}

func TestFall(t *testing.T) {
	in := gridOf(
		[]uint8{1, 0, 2},
		[]uint8{0, 5, 0},
		[]uint8{3, 0, 0})
	tests := []struct {
		dir  int
		want Grid
	}{
		{0, gridOf([]uint8{0, 0, 0}, []uint8{1, 5, 0}, []uint8{3, 0, 2})},
		{1, gridOf([]uint8{1, 0, 2}, []uint8{3, 5, 0}, []uint8{0, 0, 0})},
		{2, gridOf([]uint8{0, 1, 2}, []uint8{0, 5, 0}, []uint8{0, 0, 3})},
		{3, gridOf([]uint8{1, 2, 0}, []uint8{0, 5, 0}, []uint8{3, 0, 0})},
	}
	for _, tt := range tests {
		if got := fall(in, tt.dir, 5); !got.Equal(tt.want) {
			t.Fatalf("direction %d:\n%v want\n%v", tt.dir, got, tt.want)
		}
	}
}

func TestBuildARCLite(t *testing.T) {
	cfg := experiments.TaskConfig{Name: "arc-lite", Size: 8, Train: 30, Test: 10, Augment: 4, Seed: 3}
	d, err := Build(cfg, "", ".")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "arc-lite-8" || d.SeqLen != 64 || d.Test.Puzzles() != 10 || d.Train.Puzzles() != 40 {
		t.Fatalf("name=%s seq=%d test tasks=%d train tasks=%d, want arc-lite-8 64 10 40", d.Name, d.SeqLen, d.Test.Puzzles(), d.Train.Puzzles())
	}
	if d.Test.Len() != 10*5 {
		t.Fatalf("test len=%d, want 50 (10 tasks × 5 variants)", d.Test.Len())
	}
	m := d.Score(d.Test, perfectPreds(d.Test, d.SeqLen), nil)
	if m[PassAtMetric(1, Strict)] != 1 {
		t.Fatalf("perfect predictions: %v", m)
	}
	cfg.Families = []string{"gravity"}
	if d, err = Build(cfg, "", "."); err != nil {
		t.Fatal(err)
	}
	for _, id := range d.arc.TaskIDs {
		if id[:7] != "gravity" {
			t.Fatalf("task %s in a gravity-only dataset", id)
		}
	}
}
