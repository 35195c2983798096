package tasks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// arcAGI1 returns the real ARC-AGI-1 data the repository ships (data/).
func arcAGI1(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join("..", "data", "arc-agi-1")
	if _, err := os.Stat(filepath.Join(dir, "training")); err != nil {
		tb.Fatalf("ARC-AGI-1 data missing from the repository's data/: %v", err)
	}
	return dir
}

func TestLoadARCAGI1(t *testing.T) {
	sets, err := LoadARCSets(arcAGI1(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name               string
		tasks, demos, test int
	}{
		{"evaluation", 400, 1363, 419},
		{"training", 400, 1302, 416},
	}
	if len(sets) != len(tests) {
		t.Fatalf("loaded %d sets, want %d", len(sets), len(tests))
	}
	for i, tt := range tests {
		s := sets[i]
		demos, test := 0, 0
		for _, task := range s.Tasks {
			demos += len(task.Train)
			test += len(task.Test)
		}
		if s.Name != tt.name || len(s.Tasks) != tt.tasks || demos != tt.demos || test != tt.test {
			t.Fatalf("set %d: %s with %d tasks, %d demos, %d tests; want %s %d %d %d",
				i, s.Name, len(s.Tasks), demos, test, tt.name, tt.tasks, tt.demos, tt.test)
		}
	}
	train, eval := SplitARCSets(sets)
	if len(train) != 400 || len(eval) != 400 {
		t.Fatalf("split into %d train and %d eval tasks, want 400 and 400", len(train), len(eval))
	}
}

func TestParseTaskErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{"train": [`, "decode json"},
		{"no train", `{"train": [], "test": [{"input": [[1]], "output": [[1]]}]}`, "no train pairs"},
		{"no test", `{"train": [{"input": [[1]], "output": [[1]]}]}`, "no test pairs"},
		{"missing output", `{"train": [{"input": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "train[0].output: missing"},
		{"empty grid", `{"train": [{"input": [], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "train[0].input: 0 rows"},
		{"empty row", `{"train": [{"input": [[]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "row 0 has 0 cells"},
		{"ragged", `{"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "train[0].input: row 1 has 1 cells, want 2"},
		{"colour 10", `{"train": [{"input": [[1]], "output": [[10]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "train[0].output: row 0 column 0 is colour 10"},
		{"negative", `{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[-1]], "output": [[1]]}]}`, "test[0].input: row 0 column 0 is colour -1"},
		{"fraction", `{"train": [{"input": [[1.5]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "decode json"},
		{"too tall", `{"train": [{"input": [` + strings.Repeat("[1],", 30) + `[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "31 rows"},
		{"null grid", `{"train": [{"input": null, "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`, "train[0].input: missing"},
	}
	for _, tt := range tests {
		_, err := ParseTask("x", []byte(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	path := writeFile(t, filepath.Join(t.TempDir(), "bad.json"), tests[6].json)
	if _, err := LoadTaskFile(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "row 1 has 1 cells") {
		t.Fatalf("file error %v: want it to name %s and the problem", err, path)
	}
	if _, err := LoadTaskDir(filepath.Dir(path)); err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Fatalf("dir error %v: want it to name bad.json", err)
	}
}

// writeCombined writes tasks as a Kaggle challenges/solutions pair.
func writeCombined(t testing.TB, dir, set string, tasks []Task) (string, string) {
	t.Helper()
	type pair struct {
		Input  [][]int `json:"input"`
		Output [][]int `json:"output,omitempty"`
	}
	rows := func(g Grid) [][]int {
		out := make([][]int, g.H)
		for r := range out {
			out[r] = make([]int, g.W)
			for c := range out[r] {
				out[r][c] = int(g.At(r, c))
			}
		}
		return out
	}
	ch := map[string]map[string][]pair{}
	sol := map[string][][][]int{}
	for _, task := range tasks {
		m := map[string][]pair{}
		for _, p := range task.Train {
			m["train"] = append(m["train"], pair{rows(p.Input), rows(p.Output)})
		}
		for _, p := range task.Test {
			m["test"] = append(m["test"], pair{Input: rows(p.Input)})
			sol[task.ID] = append(sol[task.ID], rows(p.Output))
		}
		ch[task.ID] = m
	}
	cp, sp := combinedPaths(dir, set)
	for path, v := range map[string]any{cp: ch, sp: sol} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, path, string(data))
	}
	return cp, sp
}

func tasksEqual(a, b Task) bool {
	if a.ID != b.ID || len(a.Train) != len(b.Train) || len(a.Test) != len(b.Test) {
		return false
	}
	for i, p := range append(append([]Pair(nil), a.Train...), a.Test...) {
		q := append(append([]Pair(nil), b.Train...), b.Test...)[i]
		if !p.Input.Equal(q.Input) || !p.Output.Equal(q.Output) {
			return false
		}
	}
	return true
}

func TestLoadCombinedMatchesTaskFiles(t *testing.T) {
	dir := arcAGI1(t)
	want, err := LoadTaskDir(filepath.Join(dir, "evaluation"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cp, sp := writeCombined(t, out, "evaluation", want)
	got, err := LoadCombined(cp, sp)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("combined has %d tasks, want %d", len(got), len(want))
	}
	for i := range want {
		if !tasksEqual(got[i], want[i]) {
			t.Fatalf("task %s differs between the two formats", want[i].ID)
		}
	}
}

func TestParseCombinedErrors(t *testing.T) {
	ch := `{"a": {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}}`
	tests := []struct {
		name, ch, sol, want string
	}{
		{"ok", ch, `{"a": [[[4]]]}`, ""},
		{"missing task", ch, `{}`, "solutions: task a missing"},
		{"extra task", ch, `{"a": [[[4]]], "b": [[[4]]]}`, "task b has no challenge"},
		{"count", ch, `{"a": [[[4]], [[5]]]}`, "2 outputs for 1 test inputs"},
		{"bad output", ch, `{"a": [[[4, 4], [4]]]}`, "task a output 0: row 1 has 1 cells"},
		{"null output", ch, `{"a": [null]}`, "task a output 0: missing"},
		{"bad challenge", `{"a": {"train": [], "test": [{"input": [[3]]}]}}`, `{"a": [[[4]]]}`, "challenges: task a: no train pairs"},
		{"bad json", `[`, `{}`, "challenges: decode json"},
	}
	for _, tt := range tests {
		tasks, err := ParseCombined([]byte(tt.ch), []byte(tt.sol))
		if tt.want == "" {
			if err != nil || len(tasks) != 1 || tasks[0].Test[0].Output.At(0, 0) != 4 {
				t.Fatalf("%s: tasks=%v err=%v, want one task answering 4", tt.name, tasks, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%s: err=%v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadARCSetsLayouts(t *testing.T) {
	task := func(id string, v uint8) Task {
		g := gridOf([]uint8{v})
		return Task{ID: id, Train: []Pair{{g, g}}, Test: []Pair{{g, g}}}
	}
	dir := t.TempDir()
	writeCombined(t, filepath.Join(dir, "combined"), "training", []Task{task("a", 1)})
	writeCombined(t, filepath.Join(dir, "combined"), "evaluation", []Task{task("b", 2), task("c", 3)})
	writeFile(t, filepath.Join(dir, "folders", "training", "a.json"), `{"train": [{"input": [[1]], "output": [[1]]}], "test": [{"input": [[1]], "output": [[1]]}]}`)
	writeFile(t, filepath.Join(dir, "folders", "evaluation", "b.json"), `{"train": [{"input": [[2]], "output": [[2]]}], "test": [{"input": [[2]], "output": [[2]]}]}`)
	tests := []struct {
		name    string
		source  string
		subsets []string
		want    string // set:count,...
	}{
		{"combined, all", "combined", nil, "evaluation:2,training:1"},
		{"combined, one", "combined", []string{"training"}, "training:1"},
		{"one challenges file", "combined/arc-agi_evaluation_challenges.json", nil, "evaluation:2"},
		{"folders, all", "folders", nil, "evaluation:1,training:1"},
		{"one task folder", "folders/training", nil, "training:1"},
	}
	for _, tt := range tests {
		sets, err := LoadARCSets(filepath.Join(dir, tt.source), tt.subsets)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var got []string
		for _, s := range sets {
			got = append(got, s.Name+":"+string(rune('0'+len(s.Tasks))))
		}
		if strings.Join(got, ",") != tt.want {
			t.Fatalf("%s: sets %v, want %s", tt.name, got, tt.want)
		}
	}
	for _, bad := range []struct {
		source  string
		subsets []string
	}{
		{"combined", []string{"concept"}},
		{"folders/training", []string{"evaluation"}},
		{"nowhere", nil},
		{"folders/training/a.json", nil},
	} {
		if _, err := LoadARCSets(filepath.Join(dir, bad.source), bad.subsets); err == nil {
			t.Fatalf("source %s subsets %v: got no error", bad.source, bad.subsets)
		}
	}
}
