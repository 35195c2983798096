package slurm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"outerloop/experiments"
)

// A Slurm submission is a folder beside the results database,
// slurm/<grid>-<time>/, holding everything an array task needs and leaves:
//
//	runs.json             the run list (RunList): array task i trains Runs[i]
//	job.sh                the batch script, readable and submittable by hand
//	seed-<i>.db           the history of run i when it had attempts before
//	job                   the array job id sbatch returned
//	shard-<job>-<i>.db    task i's results (one writer per file: no SQLite
//	                      locking across machines)
//	log-<job>-<i>.out     task i's output, all its attempts appended
//	collected             the job ids whose shards are merged for good
//
// Per-run folders (checkpoints) stay where `harness run` keeps them
// (runs/<id>/ beside the database), so a requeued or resubmitted task finds
// its checkpoint whichever node it lands on.

// Names of the files in a submission folder.
const (
	listFile      = "runs.json"
	scriptFile    = "job.sh"
	jobFile       = "job"
	collectedFile = "collected"
)

// runListVersion is RunList.Version; a list of another version is refused
// rather than misread by a task.
const runListVersion = 1

// RunList is what a Slurm array trains: the grid and, in array-index
// order, the runs left to do when it was submitted.
type RunList struct {
	Version int      `json:"version"`
	Grid    ListGrid `json:"grid"`
	// DB is the main results database (absolute); tasks never open it,
	// collect merges into it.
	DB string `json:"db"`
	// RunsDir and CacheDir are absolute, on the shared filesystem.
	RunsDir  string      `json:"runs_dir"`
	CacheDir string      `json:"cache_dir"`
	Runs     []ListedRun `json:"runs"`
}

// ListGrid is the grid a run list comes from, as planned.
type ListGrid struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Path        string `json:"path"` // absolute; tasks resolve the grid's relative paths against its folder
}

// ListedRun is one array element's run.
type ListedRun struct {
	ID    string `json:"id"`
	Label string `json:"label,omitempty"` // the varying keys, for people reading the list
	// SourceDir is where a relative task.source resolves (absolute;
	// experiments.Grid.SourceDir at submission).
	SourceDir string `json:"source_dir,omitempty"`
	// Threads is the grid's train.threads, which is not part of the
	// config (nor of the id); 0 lets the task use its CPUs.
	Threads int             `json:"threads,omitempty"`
	Config  json.RawMessage `json:"config"`
	// Seed names seed-<i>.db when the run had attempts before this
	// submission; the task starts its shard from it.
	Seed string `json:"seed,omitempty"`
}

// WriteRunList writes l to path atomically.
func WriteRunList(path string, l *RunList) error {
	l.Version = runListVersion
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("write run list %s: %w", path, err)
	}
	if err := writeFileAtomic(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write run list %s: %w", path, err)
	}
	return nil
}

// ReadRunList reads a run list written by WriteRunList.
func ReadRunList(path string) (*RunList, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read run list: %w", err)
	}
	var l RunList
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("read run list %s: %w", path, err)
	}
	if l.Version != runListVersion {
		return nil, fmt.Errorf("read run list %s: version %d, this harness reads version %d", path, l.Version, runListVersion)
	}
	return &l, nil
}

// Spec decodes run i. The config must hash to the listed id: a harness
// that resolves configs differently from the one that wrote the list
// would otherwise train and record a different run under that id.
func (l *RunList) Spec(i int) (experiments.RunSpec, error) {
	if i < 0 || i >= len(l.Runs) {
		return experiments.RunSpec{}, fmt.Errorf("run list has %d runs, no index %d", len(l.Runs), i)
	}
	r := l.Runs[i]
	spec, err := experiments.DecodeRunSpec(r.Config)
	if err != nil {
		return experiments.RunSpec{}, fmt.Errorf("run list index %d: %w", i, err)
	}
	if spec.ID != r.ID {
		return experiments.RunSpec{}, fmt.Errorf("run list index %d: config hashes to %s, the list says %s: this harness binary resolves configs differently from the one that submitted",
			i, experiments.ShortID(spec.ID), experiments.ShortID(r.ID))
	}
	spec.Grid = l.Grid.Name
	spec.Train.Threads = r.Threads
	return spec, nil
}

// ShardPath is where array task index of job writes its results.
func ShardPath(dir, job string, index int) string {
	return filepath.Join(dir, fmt.Sprintf("shard-%s-%d.db", job, index))
}

// writeFileAtomic writes data to a temporary file beside path and renames
// it, so a reader (or a crash) never sees half a file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
