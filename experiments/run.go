package experiments

// RunSpec is one fully resolved run: a configuration × one seed. Its ID is the
// sha256 (hex) of the canonical JSON of everything but ID and Grid, so the same
// configuration in two grids is the same run.
type RunSpec struct {
	ID    string      `json:"-"`
	Grid  string      `json:"-"`
	Seed  int64       `json:"seed"`
	Task  TaskConfig  `json:"task"`
	Model ModelConfig `json:"model"`
	Train TrainConfig `json:"train"`
	Eval  EvalConfig  `json:"eval"`
}
