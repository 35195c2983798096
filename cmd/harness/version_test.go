package main

import (
	"strings"
	"testing"
)

// TestVersionNamesLibtorch checks `harness version` names what the loaded
// libtorch reports: version, ABI, CUDA version and GPU model.
func TestVersionNamesLibtorch(t *testing.T) {
	code, out, _ := cli("version")
	if code != exitOK {
		t.Fatalf("harness version: code %d, output:\n%s", code, out)
	}
	for _, key := range []string{"libtorch_version ", "libtorch_abi _GLIBCXX_USE_CXX11_ABI=", "cuda_version ", "gpu ", "libtorch_path /"} {
		if !strings.Contains(out, "\n"+key) {
			t.Errorf("harness version lacks %q:\n%s", key, out)
		}
	}
	if strings.Contains(out, "libtorch_version unknown") {
		t.Errorf("the loaded libtorch's version is unknown:\n%s", out)
	}
}
