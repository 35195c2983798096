package harness

import (
	"context"
	"testing"
)

// TestProvenanceNamesAccelerator checks every run's provenance names the
// CUDA version and GPU model, "none" when the trainer reports neither.
func TestProvenanceNamesAccelerator(t *testing.T) {
	p := collectProvenance(context.Background(), map[string]string{
		InfoLibtorchVersion: "2.11.0", InfoLibtorchABI: "_GLIBCXX_USE_CXX11_ABI=1", InfoGPU: "NVIDIA H200",
	})
	if p.LibtorchVersion != "2.11.0" || p.LibtorchABI != "_GLIBCXX_USE_CXX11_ABI=1" {
		t.Fatalf("libtorch columns = %q %q", p.LibtorchVersion, p.LibtorchABI)
	}
	if p.Info[InfoCUDAVersion] != "none" || p.Info[InfoGPU] != "NVIDIA H200" {
		t.Fatalf("info = %v, want cuda_version none and the GPU kept", p.Info)
	}
}
