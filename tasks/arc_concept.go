package tasks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ConceptARC (Moskvichev et al. 2023) is 160 ARC tasks, ten for each of
// 16 concepts. HRM trains on it beside ARC-AGI-1 (its builder reads the
// repository's corpus/ folder), TRM beside ARC-AGI-1 and ARC-AGI-2 (from its
// kaggle/combined/arc-agi_concept_*.json files, which LoadCombined reads).
const (
	conceptSet    = "concept"
	conceptCorpus = "corpus"
)

// LoadConceptARC reads ConceptARC in its repository's layout: one folder
// per concept holding <Concept><N>.json task files. root is the checkout
// (holding corpus/) or the corpus folder itself. Only files directly in a
// concept folder are tasks, as in HRM's builder. A task's ID is its file
// name without ".json", as in TRM's combined files, and tasks come back
// sorted by ID, as LoadCombined returns them, so both layouts give the
// same set.
func LoadConceptARC(root string) ([]Task, error) {
	corpus := root
	if isDir(filepath.Join(root, conceptCorpus)) {
		corpus = filepath.Join(root, conceptCorpus)
	}
	paths, err := filepath.Glob(filepath.Join(corpus, "*", "*.json"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("load conceptarc %s: no <Concept>/<Concept><N>.json task files (%v)", corpus, err)
	}
	id := func(path string) string { return strings.TrimSuffix(filepath.Base(path), ".json") }
	slices.SortFunc(paths, func(a, b string) int { return strings.Compare(id(a), id(b)) })
	tasks := make([]Task, 0, len(paths))
	for i, p := range paths {
		if i > 0 && id(p) == id(paths[i-1]) {
			return nil, fmt.Errorf("load conceptarc %s: task %s is in two concept folders", corpus, id(p))
		}
		t, err := LoadTaskFile(p)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	return tasks, nil
}

// isDir reports whether path is a folder.
func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
