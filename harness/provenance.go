package harness

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"outerloop/results"
)

// The Trainer.Info keys that name the accelerator a run had. Every run's
// provenance carries both: a trainer that reports neither ran without CUDA,
// recorded as "none".
const (
	InfoCUDAVersion = "cuda_version"
	InfoGPU         = "gpu"
)

// collectProvenance describes this process's environment. The commit comes
// from the binary's build info when the build recorded it, else from git in
// the working directory (a `go run` or a -buildvcs=false build); "" when
// neither knows. Trainer info supplies the libtorch, CUDA and GPU fields,
// which the trainer reads from the libraries it loaded.
func collectProvenance(ctx context.Context, info map[string]string) results.Provenance {
	p := results.Provenance{GoVersion: runtime.Version(), CPUModel: cpuModel(), Info: map[string]string{}}
	p.Host, _ = os.Hostname()
	p.GitCommit, p.GitDirty = buildCommit()
	if p.GitCommit == "" {
		p.GitCommit, p.GitDirty = gitCommit(ctx)
	}
	for k, v := range info {
		switch k {
		case InfoLibtorchVersion:
			p.LibtorchVersion = v
		case InfoLibtorchABI:
			p.LibtorchABI = v
		default:
			p.Info[k] = v
		}
	}
	for _, k := range []string{InfoCUDAVersion, InfoGPU} {
		if p.Info[k] == "" {
			p.Info[k] = "none"
		}
	}
	return p
}

func buildCommit() (string, bool) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false
	}
	var commit string
	var dirty bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return commit, dirty
}

func gitCommit(ctx context.Context) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", false
	}
	status, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	return strings.TrimSpace(string(out)), err != nil || len(strings.TrimSpace(string(status))) > 0
}

// cpuModel reads the first "model name" of /proc/cpuinfo; elsewhere it
// falls back to the architecture.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
