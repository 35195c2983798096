package tasks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxARCSide is the largest ARC grid side (the 30×30 canvas).
const MaxARCSide = 30

// Pair is one ARC example: an input grid and the output it maps to.
type Pair struct {
	Input, Output Grid
}

// Task is one ARC task: demonstration pairs (Train) and test pairs (Test),
// in the order of the file.
type Task struct {
	ID    string
	Train []Pair
	Test  []Pair
}

// rawPair and rawTask mirror the JSON of fchollet/ARC-AGI task files.
type rawPair struct {
	Input  *[][]int `json:"input"`
	Output *[][]int `json:"output"`
}

type rawTask struct {
	Train []rawPair `json:"train"`
	Test  []rawPair `json:"test"`
}

// ParseTask decodes one ARC task file's JSON: {"train": [...], "test":
// [...]}, each pair {"input": grid, "output": grid}, a grid 1–30 rows of
// 1–30 colours 0–9. Errors say which pair and what is wrong.
func ParseTask(id string, data []byte) (Task, error) {
	var raw rawTask
	if err := json.Unmarshal(data, &raw); err != nil {
		return Task{}, fmt.Errorf("decode json: %w", err)
	}
	return taskFromRaw(id, raw.Train, raw.Test, true)
}

// taskFromRaw validates raw pairs; testOutputs says whether test pairs must
// carry outputs (task files) or must not (combined challenges files).
func taskFromRaw(id string, train, test []rawPair, testOutputs bool) (Task, error) {
	if len(train) == 0 {
		return Task{}, fmt.Errorf("no train pairs")
	}
	if len(test) == 0 {
		return Task{}, fmt.Errorf("no test pairs")
	}
	t := Task{ID: id}
	for i, rp := range train {
		p, err := pairFromRaw(rp, true)
		if err != nil {
			return Task{}, fmt.Errorf("train[%d].%w", i, err)
		}
		t.Train = append(t.Train, p)
	}
	for i, rp := range test {
		p, err := pairFromRaw(rp, testOutputs)
		if err != nil {
			return Task{}, fmt.Errorf("test[%d].%w", i, err)
		}
		t.Test = append(t.Test, p)
	}
	return t, nil
}

func pairFromRaw(rp rawPair, wantOutput bool) (Pair, error) {
	if rp.Input == nil {
		return Pair{}, fmt.Errorf("input: missing")
	}
	in, err := gridFromJSON(*rp.Input)
	if err != nil {
		return Pair{}, fmt.Errorf("input: %w", err)
	}
	if !wantOutput {
		return Pair{Input: in}, nil
	}
	if rp.Output == nil {
		return Pair{}, fmt.Errorf("output: missing")
	}
	out, err := gridFromJSON(*rp.Output)
	if err != nil {
		return Pair{}, fmt.Errorf("output: %w", err)
	}
	return Pair{Input: in, Output: out}, nil
}

// gridFromJSON checks an ARC grid: a non-empty rectangle of at most
// MaxARCSide rows and columns, colours 0–9.
func gridFromJSON(rows [][]int) (Grid, error) {
	if len(rows) == 0 || len(rows) > MaxARCSide {
		return Grid{}, fmt.Errorf("%d rows, want 1..%d", len(rows), MaxARCSide)
	}
	w := len(rows[0])
	if w == 0 || w > MaxARCSide {
		return Grid{}, fmt.Errorf("row 0 has %d cells, want 1..%d", w, MaxARCSide)
	}
	g := NewGrid(len(rows), w)
	for r, row := range rows {
		if len(row) != w {
			return Grid{}, fmt.Errorf("row %d has %d cells, want %d like row 0", r, len(row), w)
		}
		for c, v := range row {
			if v < 0 || v > 9 {
				return Grid{}, fmt.Errorf("row %d column %d is colour %d, want 0..9", r, c, v)
			}
			g.Cells[r*w+c] = uint8(v)
		}
	}
	return g, nil
}

// LoadTaskFile reads one ARC task file; its ID is the file name without
// ".json".
func LoadTaskFile(path string) (Task, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Task{}, fmt.Errorf("load arc task: %w", err)
	}
	t, err := ParseTask(strings.TrimSuffix(filepath.Base(path), ".json"), data)
	if err != nil {
		return Task{}, fmt.Errorf("load arc task %s: %w", path, err)
	}
	return t, nil
}

// LoadTaskDir reads every *.json task file in dir (ARC-AGI-1 or -2
// data/training, data/evaluation), sorted by ID.
func LoadTaskDir(dir string) ([]Task, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("load arc dir %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("load arc dir %s: no *.json task files", dir)
	}
	slices.Sort(paths)
	tasks := make([]Task, 0, len(paths))
	for _, p := range paths {
		t, err := LoadTaskFile(p)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// LoadCombined reads the combined Kaggle files of one ARC set (TRM's
// kaggle/combined): challengesPath maps task IDs to {"train": [...], "test":
// [{"input": grid}]} and solutionsPath maps the same IDs to the list of
// test output grids. Tasks come back sorted by ID.
func LoadCombined(challengesPath, solutionsPath string) ([]Task, error) {
	cdata, err := os.ReadFile(challengesPath)
	if err != nil {
		return nil, fmt.Errorf("load arc challenges: %w", err)
	}
	sdata, err := os.ReadFile(solutionsPath)
	if err != nil {
		return nil, fmt.Errorf("load arc solutions: %w", err)
	}
	tasks, err := ParseCombined(cdata, sdata)
	if err != nil {
		return nil, fmt.Errorf("load arc %s with %s: %w", challengesPath, solutionsPath, err)
	}
	return tasks, nil
}

// ParseCombined decodes the contents of a challenges and a solutions file.
func ParseCombined(challenges, solutions []byte) ([]Task, error) {
	var ch map[string]rawTask
	if err := json.Unmarshal(challenges, &ch); err != nil {
		return nil, fmt.Errorf("challenges: decode json: %w", err)
	}
	var sol map[string][]*[][]int
	if err := json.Unmarshal(solutions, &sol); err != nil {
		return nil, fmt.Errorf("solutions: decode json: %w", err)
	}
	for id := range sol {
		if _, ok := ch[id]; !ok {
			return nil, fmt.Errorf("solutions: task %s has no challenge", id)
		}
	}
	ids := make([]string, 0, len(ch))
	for id := range ch {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	tasks := make([]Task, 0, len(ids))
	for _, id := range ids {
		raw := ch[id]
		outs, ok := sol[id]
		if !ok {
			return nil, fmt.Errorf("solutions: task %s missing", id)
		}
		if len(outs) != len(raw.Test) {
			return nil, fmt.Errorf("solutions: task %s has %d outputs for %d test inputs", id, len(outs), len(raw.Test))
		}
		t, err := taskFromRaw(id, raw.Train, raw.Test, false)
		if err != nil {
			return nil, fmt.Errorf("challenges: task %s: %w", id, err)
		}
		for i, o := range outs {
			if o == nil {
				return nil, fmt.Errorf("solutions: task %s output %d: missing", id, i)
			}
			g, err := gridFromJSON(*o)
			if err != nil {
				return nil, fmt.Errorf("solutions: task %s output %d: %w", id, i, err)
			}
			t.Test[i].Output = g
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}
