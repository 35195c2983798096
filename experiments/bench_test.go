package experiments

import "testing"

// BenchmarkLoadMaxGrid loads a grid of 10,000 runs (MaxRuns) with a claim:
// the worst case Load and Expand face.
func BenchmarkLoadMaxGrid(b *testing.B) {
	src := `name = "t"
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
[sweep]
"model.core" = ["trm", "hrm", "ut", "transformer"]
"task.train" = [` + intList(1, 250) + `]
[[expect]]
metric = "exact_accuracy"
greater = {a = "model.core=trm", b = "model.core=hrm"}
`
	path := writeGrid(b, b.TempDir(), "grid.toml", src)
	for b.Loop() {
		g, err := Load(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.Expand(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	r := DefaultRunSpec()
	for b.Loop() {
		if _, err := r.Hash(); err != nil {
			b.Fatal(err)
		}
	}
}
