package tasks

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"outerloop/experiments"
)

// Build makes the dataset cfg describes. Relative cfg.Source paths resolve
// against baseDir (the grid file's folder). With a cacheDir, the built
// dataset is stored there under the hash of cfg and the source files'
// sizes and times, and a second Build with the same spec is a read.
func Build(cfg experiments.TaskConfig, cacheDir, baseDir string) (*Dataset, error) {
	src, err := resolveSource(cfg.Source, baseDir)
	if err != nil {
		return nil, fmt.Errorf("build task %s: %w", cfg.Name, err)
	}
	var key string
	if cacheDir != "" {
		if key, err = cacheKey(cfg, src); err != nil {
			return nil, fmt.Errorf("build task %s: %w", cfg.Name, err)
		}
		if d, err := readCache(cacheDir, key); err == nil {
			return d, nil
		}
	}
	d, err := build(cfg, src)
	if err == nil {
		err = checkDataset(d)
	}
	if err != nil {
		return nil, fmt.Errorf("build task %s: %w", cfg.Name, err)
	}
	if cacheDir != "" {
		if err := writeCache(cacheDir, key, d); err != nil {
			return nil, fmt.Errorf("build task %s: %w", cfg.Name, err)
		}
	}
	return d, nil
}

// resolveSource returns the absolute source path, or "" to generate.
func resolveSource(source, baseDir string) (string, error) {
	if source == "" || source == "generate" {
		return "", nil
	}
	if !filepath.IsAbs(source) {
		source = filepath.Join(baseDir, source)
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("task.source %s: %w", source, err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("task.source: %w", err)
	}
	return abs, nil
}

func build(cfg experiments.TaskConfig, src string) (*Dataset, error) {
	if cfg.Train < 0 || cfg.Test < 0 || cfg.Augment < 0 {
		return nil, fmt.Errorf("task.train %d, task.test %d, task.augment %d: want ≥ 0", cfg.Train, cfg.Test, cfg.Augment)
	}
	if src == "" && (cfg.Train == 0 || cfg.Test == 0) {
		return nil, fmt.Errorf("task.train %d, task.test %d: generated data needs both > 0", cfg.Train, cfg.Test)
	}
	switch cfg.Name {
	case experiments.TaskSudoku:
		return buildSudoku(cfg, src)
	case experiments.TaskMaze:
		return buildMaze(cfg, src)
	case experiments.TaskARC:
		return buildARC(cfg, src)
	case experiments.TaskARCLite:
		return buildARCLite(cfg, src)
	}
	return nil, experiments.UnknownValue("task.name", cfg.Name)
}

// csvPaths returns the train and test CSV files of a source folder.
func csvPaths(src string) (train, test string, err error) {
	if info, err := os.Stat(src); err != nil || !info.IsDir() {
		return "", "", fmt.Errorf("task.source %s: want a folder holding train.csv and test.csv", src)
	}
	return filepath.Join(src, "train.csv"), filepath.Join(src, "test.csv"), nil
}

func buildSudoku(cfg experiments.TaskConfig, src string) (*Dataset, error) {
	var train, test []SudokuPuzzle
	var err error
	if src == "" {
		if _, _, err := sudokuBox(cfg.Size); err != nil {
			return nil, fmt.Errorf("task.size: %w", err)
		}
		train, test, err = generateSudokus(cfg.Size, cfg.Train, cfg.Test, cfg.Givens, cfg.MinGuesses, cfg.Seed, cfg.Distinct)
	} else {
		train, test, err = loadCSVSplits(src, cfg, LoadSudokuCSV)
	}
	if err != nil {
		return nil, err
	}
	n := train[0].Puzzle.N
	if cfg.Size != 0 && cfg.Size != n || test[0].Puzzle.N != n {
		return nil, fmt.Errorf("task.size %d: the data is %d×%d (train) and %d×%d (test)", cfg.Size, n, n, test[0].Puzzle.N, test[0].Puzzle.N)
	}
	key := func(p SudokuPuzzle) uint64 { return sudokuHash(p.Puzzle) }
	train, dropped := dropShared(train, test, key)
	rows := func(ps []SudokuPuzzle) [][2][]uint8 {
		out := make([][2][]uint8, len(ps))
		for i, p := range ps {
			out[i] = [2][]uint8{p.Puzzle.Tokens(nil), p.Solution.Tokens(nil)}
		}
		return out
	}
	return newTokenDataset(fmt.Sprintf("sudoku-%d", n), kindSudoku, n, n+2, rows(train), rows(test), cfg.Augment, cfg.Seed, dropped), nil
}

func buildMaze(cfg experiments.TaskConfig, src string) (*Dataset, error) {
	var train, test []MazePuzzle
	var err error
	if src == "" {
		train, test, err = generateMazes(cfg.Size, cfg.Train, cfg.Test, cfg.MinPath, cfg.Seed, cfg.Distinct)
	} else {
		train, test, err = loadCSVSplits(src, cfg, LoadMazeCSV)
	}
	if err != nil {
		return nil, err
	}
	n := train[0].Maze.H
	if cfg.Size != 0 && cfg.Size != n || test[0].Maze.H != n {
		return nil, fmt.Errorf("task.size %d: the data is %d×%d (train) and %d×%d (test)", cfg.Size, n, n, test[0].Maze.H, test[0].Maze.H)
	}
	train, dropped := dropShared(train, test, func(p MazePuzzle) uint64 { return p.Maze.hash() })
	rows := func(ps []MazePuzzle) [][2][]uint8 {
		out := make([][2][]uint8, len(ps))
		for i, p := range ps {
			out[i] = [2][]uint8{p.Maze.Cells, p.Solution.Cells}
		}
		return out
	}
	// The 8 dihedral transforms are all a maze has (papers: "8 dihedral").
	variants := min(cfg.Augment, NumDihedral-1)
	return newTokenDataset(fmt.Sprintf("maze-%d", n), kindMaze, n, len(mazeCharset)+1, rows(train), rows(test), variants, cfg.Seed, dropped), nil
}

// loadCSVSplits reads train.csv and test.csv of src, subsampled to
// cfg.Train and cfg.Test puzzles (0 = all) with cfg.Seed.
func loadCSVSplits[T any](src string, cfg experiments.TaskConfig, load func(string, int, *rand.Rand) ([]T, error)) (train, test []T, err error) {
	trainPath, testPath, err := csvPaths(src)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 3))
	if train, err = load(trainPath, cfg.Train, rng); err != nil {
		return nil, nil, err
	}
	if test, err = load(testPath, cfg.Test, rng); err != nil {
		return nil, nil, err
	}
	if len(train) == 0 || len(test) == 0 {
		return nil, nil, fmt.Errorf("task.source %s: %d train and %d test puzzles, want some of each", src, len(train), len(test))
	}
	return train, test, nil
}

// dropShared removes training puzzles whose key matches a test puzzle.
func dropShared[T any](train, test []T, key func(T) uint64) ([]T, int) {
	inTest := make(map[uint64]bool, len(test))
	for _, p := range test {
		inTest[key(p)] = true
	}
	kept := slices.DeleteFunc(slices.Clone(train), func(p T) bool { return inTest[key(p)] })
	return kept, len(train) - len(kept)
}

func buildARC(cfg experiments.TaskConfig, src string) (*Dataset, error) {
	if src == "" {
		return nil, fmt.Errorf("task.source: arc needs a path to ARC data (arc-lite generates)")
	}
	sets, err := LoadARCSets(src, cfg.Subsets)
	if err != nil {
		return nil, err
	}
	train, eval := SplitARCSets(sets)
	if len(eval) == 0 {
		return nil, fmt.Errorf("task.subsets %q: no evaluation set, so no test split", cfg.Subsets)
	}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 4))
	train = subsample(rng, train, cfg.Train)
	eval = subsample(rng, eval, cfg.Test)
	return NewARCDataset(train, eval, ARCOptions{
		Name: "arc", Canvas: MaxARCSide, Augment: cfg.Augment, Votes: cfg.Votes, Translate: true,
		DropLeaked: cfg.DropLeaked, Seed: cfg.Seed,
	})
}

// subsample keeps k random items of xs in their order (k = 0 keeps all).
func subsample[T any](rng *rand.Rand, xs []T, k int) []T {
	if k <= 0 || k >= len(xs) {
		return xs
	}
	idx := rng.Perm(len(xs))[:k]
	slices.Sort(idx)
	out := make([]T, k)
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}
