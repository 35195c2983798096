package main

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// setup/wheels.py is setup.sh's helper, tested here because this is the
// setup folder's Go test package.

// writeWheel writes a zip holding files (name → content) at path.
func writeWheel(t *testing.T, path string, files map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for name, body := range files {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func wheelsPy(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	out, err := exec.Command("python3", append([]string{filepath.Join("..", "wheels.py")}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("wheels.py %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestWheelRequirements reads the CUDA pins the way both torch versions
// write them: 2.1 pins nvidia-*-cu12 wheels, 2.11 a cuda-toolkit
// meta-package with extras.
func TestWheelRequirements(t *testing.T) {
	dir := t.TempDir()
	meta := map[string]string{
		"2.1": `Requires-Dist: sympy
Requires-Dist: nvidia-cuda-nvrtc-cu12 (==12.1.105) ; platform_system == "Linux" and platform_machine == "x86_64"
Requires-Dist: nvidia-cuda-runtime-cu12 (==12.1.105) ; platform_system == "Linux" and platform_machine == "x86_64"
Requires-Dist: nvidia-cuda-cupti-cu12 (==12.1.105) ; platform_system == "Linux" and platform_machine == "x86_64"
Requires-Dist: nvidia-cudnn-cu12 (==8.9.2.26) ; platform_system == "Linux" and platform_machine == "x86_64"
Requires-Dist: triton (==2.1.0) ; platform_system == "Linux" and platform_machine == "x86_64"
Requires-Dist: jinja2 ; extra == 'dynamo'
`,
		"2.11": `Requires-Dist: filelock
Requires-Dist: cuda-toolkit[cublas,cudart,cufft,cupti]==13.0.2; platform_system == "Linux"
Requires-Dist: cuda-bindings<14,>=13.0.3; platform_system == "Linux"
Requires-Dist: nvidia-cudnn-cu13==9.19.0.56; platform_system == "Linux"
Requires-Dist: triton==3.6.0; platform_system == "Linux"
Requires-Dist: nvidia-fake==1; platform_system == "Windows"
`,
	}
	want := map[string][2]string{ // cpu, cuda
		"2.1": {"nvidia-cuda-runtime-cu12==12.1.105\nnvidia-cuda-cupti-cu12==12.1.105\n",
			"nvidia-cuda-nvrtc-cu12==12.1.105\nnvidia-cuda-runtime-cu12==12.1.105\nnvidia-cuda-cupti-cu12==12.1.105\nnvidia-cudnn-cu12==8.9.2.26\n"},
		"2.11": {"cuda-toolkit[cudart,cupti]==13.0.2\n",
			"cuda-toolkit[cublas,cudart,cufft,cupti]==13.0.2\nnvidia-cudnn-cu13==9.19.0.56\n"},
	}
	for v, m := range meta {
		whl := filepath.Join(dir, "torch-"+v+".whl")
		writeWheel(t, whl, map[string]string{"torch-" + v + ".dist-info/METADATA": "Name: torch\n" + m})
		if got := wheelsPy(t, "requirements", whl, "cpu"); got != want[v][0] {
			t.Errorf("torch %s, cpu: got\n%swant\n%s", v, got, want[v][0])
		}
		if got := wheelsPy(t, "requirements", whl, "cuda"); got != want[v][1] {
			t.Errorf("torch %s, cuda: got\n%swant\n%s", v, got, want[v][1])
		}
	}
}

// TestWheelUnpack checks which files a CPU and a CUDA libtorch keep.
func TestWheelUnpack(t *testing.T) {
	src := t.TempDir()
	writeWheel(t, filepath.Join(src, "torch-2.11.0-cp311-cp311-manylinux_2_28_x86_64.whl"), map[string]string{
		"torch/include/torch/headeronly/version.h": "#define TORCH_VERSION_MAJOR 2\n",
		"torch/version.py":                         "__version__ = '2.11.0+cu130'\n",
		"torch/lib/libtorch_cpu.so":                "", "torch/lib/libc10.so": "", "torch/lib/libgomp.so.1": "",
		"torch/lib/libtorch_global_deps.so": "", "torch/lib/libshm.so": "", "torch/lib/libtorch.so": "",
		"torch/lib/libtorch_cuda.so": "", "torch/lib/libtorch_python.so": "", "torch/lib/libshm/libshm.h": "",
		"torch/__init__.py": "",
	})
	writeWheel(t, filepath.Join(src, "nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl"), map[string]string{
		"nvidia/cu13/lib/libcupti.so.13": "", "nvidia/cu13/lib/libnvperf_host.so": "",
	})
	writeWheel(t, filepath.Join(src, "nvidia_cuda_runtime-13.0.96-py3-none-manylinux_2_17_x86_64.whl"), map[string]string{
		"nvidia/cu13/lib/libcudart.so.13": "", "nvidia/cu13/include/cuda_runtime.h": "",
	})
	for mode, want := range map[string][]string{
		"cpu": {"libc10.so", "libcudart.so.13", "libcupti.so.13", "libgomp.so.1", "libshm.so", "libtorch_cpu.so", "libtorch_global_deps.so"},
		"cuda": {"libc10.so", "libcudart.so.13", "libcupti.so.13", "libgomp.so.1", "libnvperf_host.so", "libshm.so",
			"libtorch.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch_global_deps.so"},
	} {
		dst := filepath.Join(t.TempDir(), "lt")
		wheelsPy(t, "unpack", src, dst, mode)
		entries, err := os.ReadDir(filepath.Join(dst, "lib"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s lib/ = %v, want %v", mode, got, want)
		}
		for _, f := range []string{"include/torch/headeronly/version.h", "version.py"} {
			if _, err := os.Stat(filepath.Join(dst, f)); err != nil {
				t.Errorf("%s: %v", mode, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dst, "include", "cuda_runtime.h")); err == nil {
			t.Errorf("%s: a CUDA wheel's header was unpacked", mode)
		}
	}
}
