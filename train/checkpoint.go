package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sugarme/gotch/ts"

	"outerloop/models"
)

// A checkpoint is two files in the run folder: ckpt-<step>.pt, a libtorch
// archive of every tensor the run needs (weights and buffers, Adam
// moments, EMA, the carried state, the puzzle-embedding table), and
// ckpt.json, which names it with its sha256 and holds everything else
// (step, RNG state, the samples in flight, the pooled ARC votes). (gotch's
// SaveMulti overflows its name array; SaveMultiNew is the working one.)
// ckpt.json is renamed into place last, so a crash leaves the previous
// checkpoint valid.

const (
	checkpointVersion  = 1
	checkpointMetaFile = "ckpt.json"
)

type checkpointMeta struct {
	Version   int       `json:"version"`
	Run       string    `json:"run"`
	Step      int       `json:"step"`
	Wall      float64   `json:"wall_s"`
	FLOPs     float64   `json:"train_flops"`
	HaltHist  []float64 `json:"halt_hist"`
	AdamSteps int64     `json:"adam_steps"`
	RNG       []byte    `json:"rng"`
	Slots     slotState `json:"slots"`
	Tensors   string    `json:"tensors"`
	SHA256    string    `json:"sha256"`
	// Votes is the run's VotePool (eval.pool_votes), binary.
	Votes []byte `json:"votes,omitempty"`
}

type slotState struct {
	Inputs   []int32 `json:"inputs"`
	Labels   []int32 `json:"labels"`
	PIDs     []int32 `json:"pids"`
	Segments []int   `json:"segments"`
	Halted   []bool  `json:"halted"`
	BatchSeg int     `json:"batch_seg"`
	MinSeg   int     `json:"min_seg"`
}

// named lists the run's tensors under stable checkpoint names.
func (e *engine) named() []ts.NamedTensor {
	var out []ts.NamedTensor
	add := func(name string, t *ts.Tensor) { out = append(out, ts.NamedTensor{Name: name, Tensor: t}) }
	all := e.model.Params.Named()
	for _, name := range e.model.Params.Names() {
		add("param."+name, all[name])
	}
	for i := range e.opt.m {
		add("adam_m."+strconv.Itoa(i), e.opt.m[i])
		add("adam_v."+strconv.Itoa(i), e.opt.v[i])
	}
	if e.ema != nil {
		for i, t := range e.ema.shadow {
			add("ema."+strconv.Itoa(i), t)
		}
	}
	for i, t := range e.carry.States {
		add("carry."+strconv.Itoa(i), t)
	}
	if e.model.Puzzle != nil {
		add("puzzle.table", e.model.Puzzle.Table)
	}
	return out
}

// checkpoint writes the run's state at the current step.
func (e *engine) checkpoint(dir string) error {
	if dir == "" {
		return nil
	}
	// Everything logged up to this step reaches the database before the
	// checkpoint exists: a resumed run re-logs only the steps after it.
	e.obs.Flush()
	name := fmt.Sprintf("ckpt-%08d.pt", e.step)
	path := filepath.Join(dir, name)
	if err := ts.SaveMultiNew(e.named(), path+".tmp"); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	rng, err := e.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("save checkpoint: rng state: %w", err)
	}
	s := e.slots
	meta := checkpointMeta{
		Version: checkpointVersion, Run: e.run.ID, Step: e.step, Wall: e.wall, FLOPs: e.flops,
		HaltHist: e.haltHist, AdamSteps: e.opt.steps, RNG: rng, Tensors: name, SHA256: sum,
		Slots: slotState{Inputs: s.inputs, Labels: s.labels, PIDs: s.pids, Segments: s.segments,
			Halted: s.halted, BatchSeg: s.batchSeg, MinSeg: s.minSeg},
	}
	if e.votes != nil {
		if meta.Votes, err = e.votes.MarshalBinary(); err != nil {
			return fmt.Errorf("save checkpoint: %w", err)
		}
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	metaPath := filepath.Join(dir, checkpointMetaFile)
	if err := os.WriteFile(metaPath+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(metaPath+".tmp", metaPath); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	removeOlder(dir, name)
	e.obs.Checkpoint(e.step)
	return nil
}

// resume restores the state of the checkpoint in dir, if there is one.
func (e *engine) resume(dir string) error {
	if dir == "" {
		return nil
	}
	metaPath := filepath.Join(dir, checkpointMetaFile)
	b, err := os.ReadFile(metaPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	var meta checkpointMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return fmt.Errorf("resume %s: %w", metaPath, err)
	}
	if meta.Version != checkpointVersion || meta.Run != e.run.ID {
		return fmt.Errorf("resume %s: checkpoint version %d of run %s, want version %d of run %s",
			metaPath, meta.Version, meta.Run, checkpointVersion, e.run.ID)
	}
	path := filepath.Join(dir, meta.Tensors)
	if sum, err := fileSHA256(path); err != nil || sum != meta.SHA256 {
		return fmt.Errorf("resume: %s is missing or does not match its sha256 in %s (%v)", path, metaPath, err)
	}
	loaded, err := ts.LoadMultiWithDevice(path, e.device)
	if err != nil {
		return fmt.Errorf("resume %s: %w", path, err)
	}
	byName := map[string]*ts.Tensor{}
	for _, nt := range loaded {
		byName[nt.Name] = nt.Tensor
	}
	defer func() {
		for _, t := range byName {
			t.MustDrop()
		}
	}()
	var missing []string
	models.NoGrad(func() {
		for _, nt := range e.named() {
			src, ok := byName[nt.Name]
			if !ok {
				missing = append(missing, nt.Name)
				continue
			}
			nt.Tensor.Copy_(src)
		}
	})
	if len(missing) > 0 {
		return fmt.Errorf("resume %s: tensors missing: %s", path, strings.Join(missing, ", "))
	}
	if err := e.restore(meta); err != nil {
		return fmt.Errorf("resume %s: %w", metaPath, err)
	}
	return nil
}

// restore sets everything of meta but the tensors: the RNG, the samples in
// flight, the counters and the pooled votes.
func (e *engine) restore(meta checkpointMeta) error {
	if err := e.pcg.UnmarshalBinary(meta.RNG); err != nil {
		return fmt.Errorf("rng state: %w", err)
	}
	s := e.slots
	if len(meta.Slots.Inputs) != len(s.inputs) || len(meta.Slots.Halted) != len(s.halted) {
		return fmt.Errorf("checkpoint holds %d slots, the run has %d", len(meta.Slots.Halted), len(s.halted))
	}
	copy(s.inputs, meta.Slots.Inputs)
	copy(s.labels, meta.Slots.Labels)
	copy(s.pids, meta.Slots.PIDs)
	copy(s.segments, meta.Slots.Segments)
	copy(s.halted, meta.Slots.Halted)
	s.batchSeg, s.minSeg = meta.Slots.BatchSeg, meta.Slots.MinSeg
	e.step, e.wall, e.flops, e.opt.steps = meta.Step, meta.Wall, meta.FLOPs, meta.AdamSteps
	copy(e.haltHist, meta.HaltHist)
	if e.votes != nil {
		votes, err := e.data.RestoreVotePool(meta.Votes)
		if err != nil {
			return err
		}
		e.votes = votes
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// removeOlder deletes checkpoint archives other than keep.
func removeOlder(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.pt"))
	for _, p := range old {
		if filepath.Base(p) != keep {
			os.Remove(p)
		}
	}
}
