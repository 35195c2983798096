package results

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Provenance is the environment an attempt ran in: what code, built how, on
// which machine. The harness collects it; Trainer.Info supplies the libtorch
// fields and anything else in Info.
type Provenance struct {
	GitCommit       string            `json:"git_commit"`
	GitDirty        bool              `json:"git_dirty"`
	GoVersion       string            `json:"go_version"`
	LibtorchVersion string            `json:"libtorch_version"`
	LibtorchABI     string            `json:"libtorch_abi"`
	Host            string            `json:"host"`
	CPUModel        string            `json:"cpu_model"`
	Threads         int               `json:"threads"`
	Info            map[string]string `json:"info"`
}

// ID is the sha256 of the provenance's JSON (map keys are sorted by
// encoding/json), so the same environment always gets the same id.
func (p Provenance) ID() (string, error) {
	if len(p.Info) == 0 {
		p.Info = nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode provenance: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// AddProvenance records p (once per distinct environment) and returns its id.
func (s *Store) AddProvenance(ctx context.Context, p Provenance) (string, error) {
	id, err := p.ID()
	if err != nil {
		return "", err
	}
	info := []byte("{}")
	if len(p.Info) > 0 {
		if info, err = json.Marshal(p.Info); err != nil {
			return "", fmt.Errorf("encode provenance info: %w", err)
		}
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO provenance (id, git_commit, git_dirty, go_version, libtorch_version,
			libtorch_abi, host, cpu_model, threads, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		id, p.GitCommit, p.GitDirty, p.GoVersion, p.LibtorchVersion, p.LibtorchABI, p.Host, p.CPUModel, p.Threads, string(info))
	if err != nil {
		return "", fmt.Errorf("record provenance: %w", err)
	}
	return id, nil
}

// Provenance returns the provenance record with the given id.
func (s *Store) Provenance(ctx context.Context, id string) (Provenance, error) {
	var (
		p    Provenance
		info string
	)
	err := s.db.QueryRowContext(ctx, `SELECT git_commit, git_dirty, go_version, libtorch_version, libtorch_abi,
		host, cpu_model, threads, info FROM provenance WHERE id = ?`, id).
		Scan(&p.GitCommit, &p.GitDirty, &p.GoVersion, &p.LibtorchVersion, &p.LibtorchABI, &p.Host, &p.CPUModel, &p.Threads, &info)
	if err != nil {
		return Provenance{}, fmt.Errorf("read provenance %s: %w", id, errNoRows(err))
	}
	if err := json.Unmarshal([]byte(info), &p.Info); err != nil {
		return Provenance{}, fmt.Errorf("read provenance %s: decode info: %w", id, err)
	}
	if len(p.Info) == 0 {
		p.Info = nil
	}
	return p, nil
}
