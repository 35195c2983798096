package models

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// setupEnv reads third_party/libtorch.env, what setup configured the build
// with; the test skips where setup has not run.
func setupEnv(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "third_party", "libtorch.env"))
	if err != nil {
		t.Skipf("no third_party/libtorch.env (run `just setup`): %v", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

// TestLibtorchProvenanceIsLoaded checks that the provenance libtorch reports
// at run time matches what setup linked: the version, ABI and path come from
// the loaded libraries, so a mismatch means the binary runs against another
// libtorch than it was built for.
func TestLibtorchProvenanceIsLoaded(t *testing.T) {
	env := setupEnv(t)
	info := Libtorch()
	want := map[string]string{
		"libtorch_version": env["TORCH_VERSION"],
		"libtorch_abi":     "_GLIBCXX_USE_CXX11_ABI=" + env["CXX11_ABI"],
		"libtorch_path":    env["LIBTORCH"],
		"libtorch_cuda":    map[string]string{"0": "false", "1": "true"}[env["CUDA"]],
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("Libtorch()[%q] = %q, want %q (setup: %v)", k, info[k], v, env)
		}
	}
	if (info["cuda_version"] == "none") != (env["CUDA"] == "0") {
		t.Errorf("cuda_version = %q with CUDA=%s", info["cuda_version"], env["CUDA"])
	}
	if info["gpu"] == "" || (env["CUDA"] == "0" && info["gpu"] != "none") {
		t.Errorf("gpu = %q with CUDA=%s", info["gpu"], env["CUDA"])
	}
	t.Logf("%v", info)
}

func TestGPUModels(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{nil, "none"},
		{[]string{"NVIDIA H200"}, "NVIDIA H200"},
		{[]string{"NVIDIA H200", "NVIDIA H200"}, "2 × NVIDIA H200"},
		{[]string{"NVIDIA H200", "NVIDIA A100"}, "NVIDIA H200, NVIDIA A100"},
	} {
		if got := gpuModels(tt.names); got != tt.want {
			t.Errorf("gpuModels(%q) = %q, want %q", tt.names, got, tt.want)
		}
	}
}

// TestCUDADevice runs an op on the GPU; it needs a CUDA build and a GPU, and
// says which one is missing when it skips.
func TestCUDADevice(t *testing.T) {
	if !CUDALinked() {
		t.Skip("needs a GPU: this build links a CPU-only libtorch (`OUTERLOOP_CUDA=1 just setup` links CUDA)")
	}
	dev, err := ParseDevice("cuda")
	if err != nil {
		t.Skipf("needs a GPU: %v", err)
	}
	x := ts.MustOnes([]int64{64, 64}, gotch.Float, dev)
	defer x.MustDrop()
	y := x.MustMatmul(x, false)
	defer y.MustDrop()
	if got := y.MustSum(gotch.Float, false).Float64Values(true)[0]; got != 64*64*64 {
		t.Fatalf("sum of ones·ones on %v = %v, want %v", dev, got, 64*64*64)
	}
	if gpu := Libtorch()["gpu"]; gpu == "none" {
		t.Fatalf("an op ran on %v but provenance names no GPU", dev)
	}
}
