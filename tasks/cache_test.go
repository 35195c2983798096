package tasks

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"outerloop/experiments"
)

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "task-*.gob"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameSamples(t *testing.T, a, b *Dataset) {
	t.Helper()
	if a.Name != b.Name || a.Vocab != b.Vocab || a.SeqLen != b.SeqLen || a.NumPuzzleIDs != b.NumPuzzleIDs || a.Dropped != b.Dropped {
		t.Fatalf("headers differ: %+v vs %+v", a, b)
	}
	for _, pair := range [][2]*Split{{a.Train, b.Train}, {a.Test, b.Test}} {
		ai, al, aid := splitSamples(pair[0], a.SeqLen)
		bi, bl, bid := splitSamples(pair[1], b.SeqLen)
		if len(ai) != len(bi) || string(int32Bytes(ai)) != string(int32Bytes(bi)) ||
			string(int32Bytes(al)) != string(int32Bytes(bl)) || string(int32Bytes(aid)) != string(int32Bytes(bid)) {
			t.Fatalf("%s split differs after the cache round trip", pair[0].Name())
		}
	}
}

func TestBuildCache(t *testing.T) {
	for _, cfg := range []experiments.TaskConfig{
		{Name: "sudoku", Size: 6, Train: 20, Test: 5, Augment: 3, Seed: 1},
		{Name: "maze", Size: 8, Train: 20, Test: 5, MinPath: 6, Seed: 1},
		{Name: "arc-lite", Size: 8, Train: 10, Test: 4, Augment: 3, Seed: 1},
	} {
		dir := t.TempDir()
		fresh := mustBuild(t, cfg, dir, ".")
		files := cacheFiles(t, dir)
		if len(files) != 1 {
			t.Fatalf("%s: %d cache files, want 1", cfg.Name, len(files))
		}
		cached := mustBuild(t, cfg, dir, ".")
		sameSamples(t, fresh, cached)
		if cached.Score(cached.Test, perfectPreds(cached.Test, cached.SeqLen), nil)[MetricExact] != 1 {
			t.Fatalf("%s: a cached dataset scores its own labels below 1", cfg.Name)
		}
	}
}

// The second build must be a read: a cache entry changed behind Build's
// back is what it returns.
func TestBuildCacheIsRead(t *testing.T) {
	dir := t.TempDir()
	cfg := experiments.TaskConfig{Name: "sudoku", Size: 4, Train: 10, Test: 5, Seed: 1}
	d := mustBuild(t, cfg, dir, ".")
	key, err := cacheKey(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	d.Name = "marked"
	if err := writeCache(dir, key, d); err != nil {
		t.Fatal(err)
	}
	if got := mustBuild(t, cfg, dir, ".").Name; got != "marked" {
		t.Fatalf("second build name=%q, want the cached %q", got, "marked")
	}
	cfg.Seed = 2
	if got := mustBuild(t, cfg, dir, ".").Name; got != "sudoku-4" {
		t.Fatalf("other spec name=%q, want a fresh sudoku-4", got)
	}
}

func TestBuildCacheRebuildsBadFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := experiments.TaskConfig{Name: "maze", Size: 6, Train: 5, Test: 2, Seed: 1}
	want := mustBuild(t, cfg, dir, ".")
	path := cacheFiles(t, dir)[0]
	for _, content := range []string{"", "not gob at all", "\x00\x01\x02"} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sameSamples(t, want, mustBuild(t, cfg, dir, "."))
	}
	// A truncated file is rebuilt too.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(path, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	sameSamples(t, want, mustBuild(t, cfg, dir, "."))
}

// Editing a source file changes the key, so the cache never serves stale
// data.
func TestCacheKeyFollowsSource(t *testing.T) {
	src := t.TempDir()
	path := writeFile(t, filepath.Join(src, "train.csv"), "a")
	cfg := experiments.TaskConfig{Name: "sudoku", Source: src}
	k1, err := cacheKey(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	k2, _ := cacheKey(cfg, src)
	if k1 == k2 {
		t.Fatalf("key unchanged after the source file changed")
	}
	cfg.Test = 3
	if k3, _ := cacheKey(cfg, src); k3 == k2 {
		t.Fatalf("key unchanged after the spec changed")
	}
}

func TestBuildCacheARC(t *testing.T) {
	dir := arcAGI1(t)
	cache := t.TempDir()
	cfg := experiments.TaskConfig{Name: "arc", Source: dir, Augment: 2, Test: 20, Seed: 1}
	fresh := mustBuild(t, cfg, cache, ".")
	start := time.Now()
	cached := mustBuild(t, cfg, cache, ".")
	t.Logf("cached ARC build read in %v", time.Since(start))
	sameSamples(t, fresh, cached)
}
