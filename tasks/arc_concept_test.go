package tasks

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// writeConceptARC lays tasks out as the ConceptARC repository does, under
// root/corpus/<concept>/<id>.json, concept being the ID without its
// number, plus a MinimalTasks folder that is not part of the corpus.
func writeConceptARC(t *testing.T, root string, tasks []Task) {
	t.Helper()
	for _, task := range tasks {
		concept := strings.TrimRight(task.ID, "0123456789")
		writeFile(t, filepath.Join(root, "corpus", concept, task.ID+".json"), taskJSON(task))
	}
	writeFile(t, filepath.Join(root, "MinimalTasks", "CopyMinimal.json"), taskJSON(tasks[0]))
	writeFile(t, filepath.Join(root, "README.md"), "ConceptARC")
}

// taskJSON renders a one-cell-grid task as a task file.
func taskJSON(task Task) string {
	pair := func(p Pair) string {
		return fmt.Sprintf(`{"input": [[%d]], "output": [[%d]]}`, p.Input.At(0, 0), p.Output.At(0, 0))
	}
	return fmt.Sprintf(`{"train": [%s], "test": [%s]}`, pair(task.Train[0]), pair(task.Test[0]))
}

// TestLoadConceptARC: the repository's corpus layout and TRM's combined
// concept files give the same tasks in the same order, however the corpus
// is reached.
func TestLoadConceptARC(t *testing.T) {
	task := func(id string, v uint8) Task {
		g := gridOf([]uint8{v})
		return Task{ID: id, Train: []Pair{{g, gridOf([]uint8{v + 1})}}, Test: []Pair{{g, g}}}
	}
	// Sorted by ID as bytes, as ParseCombined sorts: 10 before 2.
	want := []Task{task("AboveBelow1", 1), task("AboveBelow10", 2), task("AboveBelow2", 3), task("Center1", 4)}
	dir := t.TempDir()
	writeConceptARC(t, filepath.Join(dir, "ConceptARC"), want)
	writeConceptARC(t, filepath.Join(dir, "data", "concept"), want)
	writeFile(t, filepath.Join(dir, "data", "training", "a.json"), taskJSON(task("a", 5)))
	writeCombined(t, filepath.Join(dir, "combined"), "concept", want)
	tests := []struct {
		name, source string
		subsets      []string
		set          int // index of the concept set among those loaded
	}{
		{"checkout", "ConceptARC", nil, 0},
		{"checkout, named", "ConceptARC", []string{"concept"}, 0},
		{"corpus folder", "ConceptARC/corpus", nil, -1},
		{"set folder beside ARC-AGI's", "data", []string{"training", "concept"}, 1},
		{"combined files", "combined", []string{"concept"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Task
			if tt.set < 0 {
				tasks, err := LoadConceptARC(filepath.Join(dir, tt.source))
				if err != nil {
					t.Fatal(err)
				}
				got = tasks
			} else {
				sets, err := LoadARCSets(filepath.Join(dir, tt.source), tt.subsets)
				if err != nil {
					t.Fatal(err)
				}
				if sets[tt.set].Name != "concept" {
					t.Fatalf("set %d is %q, want concept", tt.set, sets[tt.set].Name)
				}
				got = sets[tt.set].Tasks
			}
			if len(got) != len(want) {
				t.Fatalf("%d tasks, want %d", len(got), len(want))
			}
			for i := range want {
				if !tasksEqual(got[i], want[i]) {
					t.Fatalf("task %d is %s, want %s", i, got[i].ID, want[i].ID)
				}
			}
		})
	}
}

func TestLoadConceptARCErrors(t *testing.T) {
	dir := t.TempDir()
	g := gridOf([]uint8{1})
	one := Task{ID: "Copy1", Train: []Pair{{g, g}}, Test: []Pair{{g, g}}}
	writeFile(t, filepath.Join(dir, "twice", "corpus", "Copy", "Copy1.json"), taskJSON(one))
	writeFile(t, filepath.Join(dir, "twice", "corpus", "Other", "Copy1.json"), taskJSON(one))
	writeFile(t, filepath.Join(dir, "bad", "corpus", "Copy", "Copy1.json"), `{"train": []}`)
	writeFile(t, filepath.Join(dir, "empty", "corpus", "README.md"), "")
	tests := []struct {
		source  string
		subsets []string
		want    string
	}{
		{"twice", nil, "task Copy1 is in two concept folders"},
		{"bad", nil, "Copy1.json: no train pairs"},
		{"empty", nil, "no <Concept>/<Concept><N>.json task files"},
		{"twice", []string{"training"}, `ConceptARC checkout, the single set "concept"`},
	}
	for _, tt := range tests {
		_, err := LoadARCSets(filepath.Join(dir, tt.source), tt.subsets)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: error %v, want it to contain %q", tt.source, tt.subsets, err, tt.want)
		}
	}
}
