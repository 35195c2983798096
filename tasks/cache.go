package tasks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"outerloop/experiments"
)

// cacheVersion changes whenever the data a spec builds to changes (a
// generator, tokenisation or the file layout), so stale caches are rebuilt.
// 2: ARC keeps leaked pairs unless task.drop_leaked.
const cacheVersion = 2

// cacheFile is the on-disk form of a Dataset: tokens as bytes, ARC as its
// original grids and variant list, encoded with gob.
type cacheFile struct {
	Version                     int
	Key                         string
	Name, Kind                  string
	Vocab, SeqLen, NumPuzzleIDs int
	Dropped                     int
	TrainTok, TestTok           *tokenSplit
	ARC                         *arcData
}

// cacheKey hashes everything a build depends on: the spec, the resolved
// source and the size and modification time of every source file, so
// editing the data invalidates the cache without reading it.
func cacheKey(cfg experiments.TaskConfig, src string) (string, error) {
	spec, err := json.Marshal(cfg)
	if err != nil {
		return "", fmt.Errorf("hash task spec: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "tasks cache v%d\n%s\n%s\n", cacheVersion, spec, src)
	if src == "" {
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	err = filepath.WalkDir(src, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		fmt.Fprintf(h, "%s\n", rel)
		return binary.Write(h, binary.LittleEndian, [2]int64{info.Size(), info.ModTime().UnixNano()})
	})
	if err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", src, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func cachePath(dir, key string) string {
	return filepath.Join(dir, "task-"+key[:32]+".gob")
}

// readCache returns the dataset stored under key, or an error when there is
// none or it is unreadable (the caller then rebuilds and overwrites it).
func readCache(dir, key string) (*Dataset, error) {
	f, err := os.Open(cachePath(dir, key))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var c cacheFile
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil, fmt.Errorf("read task cache %s: %w", f.Name(), err)
	}
	if c.Version != cacheVersion || c.Key != key {
		return nil, fmt.Errorf("read task cache %s: stale", f.Name())
	}
	d := &Dataset{Name: c.Name, Vocab: c.Vocab, SeqLen: c.SeqLen, NumPuzzleIDs: c.NumPuzzleIDs, Dropped: c.Dropped, kind: c.Kind, arc: c.ARC}
	switch {
	case c.ARC != nil:
		d.Train = &Split{name: "train", seqLen: c.SeqLen, arc: c.ARC, arcSplit: &c.ARC.Train}
		d.Test = &Split{name: "test", seqLen: c.SeqLen, arc: c.ARC, arcSplit: &c.ARC.Test}
	case c.TrainTok != nil && c.TestTok != nil:
		d.Train = &Split{name: "train", seqLen: c.SeqLen, tok: c.TrainTok}
		d.Test = &Split{name: "test", seqLen: c.SeqLen, tok: c.TestTok}
	default:
		return nil, fmt.Errorf("read task cache %s: no splits", f.Name())
	}
	if err := checkShape(d); err != nil {
		return nil, fmt.Errorf("read task cache %s: %w", f.Name(), err)
	}
	return d, nil
}

// writeCache stores d under key, through a temporary file and a rename so
// that concurrent builders of one spec never see a half-written file.
func writeCache(dir, key string, d *Dataset) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write task cache: %w", err)
	}
	c := cacheFile{
		Version: cacheVersion, Key: key, Name: d.Name, Kind: d.kind,
		Vocab: d.Vocab, SeqLen: d.SeqLen, NumPuzzleIDs: d.NumPuzzleIDs, Dropped: d.Dropped,
		TrainTok: d.Train.tok, TestTok: d.Test.tok, ARC: d.arc,
	}
	tmp, err := os.CreateTemp(dir, "task-*.tmp")
	if err != nil {
		return fmt.Errorf("write task cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := gob.NewEncoder(tmp).Encode(&c); err != nil {
		tmp.Close()
		return fmt.Errorf("write task cache %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write task cache %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), cachePath(dir, key)); err != nil {
		return fmt.Errorf("write task cache: %w", err)
	}
	return nil
}
