package tasks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ARCSet is a named group of ARC tasks loaded together, e.g. ARC-AGI-1's
// "training" or "evaluation".
type ARCSet struct {
	Name  string
	Tasks []Task
}

// IsEvaluationSet reports whether set name is an evaluation set, whose test
// outputs are held out (evaluation, evaluation2). Every other set
// (training, training2, concept) trains on all its pairs, as in HRM and TRM.
func IsEvaluationSet(name string) bool { return strings.HasPrefix(name, "evaluation") }

// LoadARCSets loads ARC sets from source, which is one of:
//   - a folder with one folder of task files per set (ARC-AGI's data/,
//     holding training/ and evaluation/); subsets name the folders, and
//     the folder of set "concept" may be a ConceptARC corpus or checkout
//     (LoadConceptARC);
//   - a folder of combined files arc-agi_{set}_challenges.json and
//     arc-agi_{set}_solutions.json (TRM's kaggle/combined); subsets name
//     the sets;
//   - a folder of task files, which is one set named after the folder;
//   - a ConceptARC checkout (a folder holding corpus/), the set "concept";
//   - one *_challenges.json file beside its *_solutions.json.
//
// Empty subsets means every set found.
func LoadARCSets(source string, subsets []string) ([]ARCSet, error) {
	info, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("load arc sets: %w", err)
	}
	if !info.IsDir() {
		return loadChallengesFile(source, subsets)
	}
	if isDir(filepath.Join(source, conceptCorpus)) {
		if len(subsets) > 0 && !slices.Equal(subsets, []string{conceptSet}) {
			return nil, fmt.Errorf("load arc sets: %s is a ConceptARC checkout, the single set %q, not %q", source, conceptSet, subsets)
		}
		t, err := LoadConceptARC(source)
		return []ARCSet{{Name: conceptSet, Tasks: t}}, err
	}
	if tasks, _ := filepath.Glob(filepath.Join(source, "*.json")); len(tasks) > 0 && !hasCombined(tasks) {
		name := filepath.Base(source)
		if len(subsets) > 0 && !slices.Equal(subsets, []string{name}) {
			return nil, fmt.Errorf("load arc sets: %s is the single set %q, not %q", source, name, subsets)
		}
		t, err := LoadTaskDir(source)
		return []ARCSet{{Name: name, Tasks: t}}, err
	}
	if len(subsets) == 0 {
		subsets = findSets(source)
		if len(subsets) == 0 {
			return nil, fmt.Errorf("load arc sets: %s holds no task folders or combined files", source)
		}
	}
	var sets []ARCSet
	for _, name := range subsets {
		set, err := loadSet(source, name)
		if err != nil {
			return nil, err
		}
		sets = append(sets, set)
	}
	return sets, nil
}

func hasCombined(paths []string) bool {
	for _, p := range paths {
		if strings.HasSuffix(p, "_challenges.json") {
			return true
		}
	}
	return false
}

// combinedPaths returns the combined files of set name in dir.
func combinedPaths(dir, name string) (challenges, solutions string) {
	return filepath.Join(dir, "arc-agi_"+name+"_challenges.json"),
		filepath.Join(dir, "arc-agi_"+name+"_solutions.json")
}

func loadSet(source, name string) (ARCSet, error) {
	dir := filepath.Join(source, name)
	if isDir(dir) {
		load := LoadTaskDir
		if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) == 0 {
			load = LoadConceptARC // concept folders, not task files
		}
		tasks, err := load(dir)
		return ARCSet{Name: name, Tasks: tasks}, err
	}
	ch, sol := combinedPaths(source, name)
	if _, err := os.Stat(ch); err == nil {
		tasks, err := LoadCombined(ch, sol)
		return ARCSet{Name: name, Tasks: tasks}, err
	}
	return ARCSet{}, fmt.Errorf("load arc sets: set %q not in %s (no folder %s, no file %s)", name, source, dir, ch)
}

// findSets lists the sets in source: its subfolders and combined files,
// sorted by name.
func findSets(source string) []string {
	entries, err := os.ReadDir(source)
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir():
			names = append(names, n)
		case strings.HasPrefix(n, "arc-agi_") && strings.HasSuffix(n, "_challenges.json"):
			names = append(names, strings.TrimSuffix(strings.TrimPrefix(n, "arc-agi_"), "_challenges.json"))
		}
	}
	slices.Sort(names)
	return names
}

func loadChallengesFile(path string, subsets []string) ([]ARCSet, error) {
	base := filepath.Base(path)
	if !strings.HasSuffix(base, "_challenges.json") {
		return nil, fmt.Errorf("load arc sets: %s is neither a folder nor a *_challenges.json file", path)
	}
	stem := strings.TrimSuffix(base, "_challenges.json")
	name := strings.TrimPrefix(stem, "arc-agi_")
	if len(subsets) > 0 && !slices.Equal(subsets, []string{name}) {
		return nil, fmt.Errorf("load arc sets: %s is the single set %q, not %q", path, name, subsets)
	}
	tasks, err := LoadCombined(path, filepath.Join(filepath.Dir(path), stem+"_solutions.json"))
	if err != nil {
		return nil, err
	}
	return []ARCSet{{Name: name, Tasks: tasks}}, nil
}

// EvalTask is an evaluation task as training may see it: its demonstration
// pairs and its test inputs. The test outputs are sealed inside: only the
// test split of NewARCDataset reads them, as labels, so no code path can put
// an evaluation answer into training by accident (the papers' split: HRM
// issue #18, "evaluation test outputs are never trained on").
type EvalTask struct {
	ID     string
	Train  []Pair
	Inputs []Grid
	// answers are the test outputs, in the order of Inputs.
	answers []Grid
}

// Seal turns t into an evaluation task, hiding its test outputs.
func Seal(t Task) EvalTask {
	e := EvalTask{ID: t.ID, Train: t.Train}
	for _, p := range t.Test {
		e.Inputs = append(e.Inputs, p.Input)
		e.answers = append(e.answers, p.Output)
	}
	return e
}

// SplitARCSets sorts loaded sets into training tasks (all pairs may train)
// and sealed evaluation tasks by IsEvaluationSet.
func SplitARCSets(sets []ARCSet) (train []Task, eval []EvalTask) {
	for _, s := range sets {
		for _, t := range s.Tasks {
			if IsEvaluationSet(s.Name) {
				eval = append(eval, Seal(t))
			} else {
				train = append(train, t)
			}
		}
	}
	return train, eval
}
