package main

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestFixesOnSnippets(t *testing.T) {
	tests := []struct {
		name      string
		apply     func(string) (string, int)
		src       string
		wantSites int
		want      []string // substrings of the output
		wantNot   []string
	}{
		{
			name:      "bigStruct",
			apply:     dropBigStruct,
			src:       "\tx.ctensor = ctensor\n\tx.d = new(bigStruct)\n",
			wantSites: 1,
			wantNot:   []string{"bigStruct"},
		},
		{
			name:  "one output",
			apply: freeResultBuffers,
			src: "func f() {\n  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n" +
				"  lib.AtgF(ptr)\n}\n",
			wantSites: 1,
			want:      []string{"C.malloc(C.size_t(8))", "  defer C.free(unsafe.Pointer(ptr))\n"},
			wantNot:   []string{"malloc(0)"},
		},
		{
			name:  "four outputs",
			apply: freeResultBuffers,
			src: "func g() {\n  ctensorPtr0 := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n" +
				"  ctensorPtr1 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr0)) + unsafe.Sizeof(ctensorPtr0)))\n" +
				"  ctensorPtr2 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr1)) + unsafe.Sizeof(ctensorPtr0)))\n" +
				"  ctensorPtr3 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr2)) + unsafe.Sizeof(ctensorPtr0)))\n}\n" +
				"func h() {\n  ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n}\n",
			wantSites: 2,
			want:      []string{"C.malloc(C.size_t(32))", "C.malloc(C.size_t(8))"},
		},
		{
			name:  "free already deferred",
			apply: freeResultBuffers,
			src: "func r() {\n\t\tp := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))\n" +
				"\t\tdefer C.free(unsafe.Pointer(p))\n}\n",
			wantSites: 1,
			want:      []string{"C.malloc(C.size_t(8))"},
		},
		{
			name:      "in-place swap",
			apply:     freeInplaceHandle,
			src:       "  lib.AtgAdd_(ptr, ts.ctensor)\n  ts.ctensor = *ptr\n",
			wantSites: 1,
			want:      []string{"  lib.AtFree(ts.ctensor)\n  ts.ctensor = *ptr\n"},
		},
		{
			name:      "tensor arrays",
			apply:     freeTensorArrays,
			src:       "\tctensorsPtr := lib.AtgSplit(ts.ctensor, splitSize, dim)\n",
			wantSites: 1,
			want:      []string{"\tdefer C.free(unsafe.Pointer(ctensorsPtr))\n"},
		},
		{
			name:      "clip lock",
			apply:     unlockClipGradNorm,
			src:       "\topt.varstore.Lock()\n\tdefer opt.varstore.Unlock()\n\tparameters := opt.varstore.TrainableVariables()\n",
			wantSites: 1,
			wantNot:   []string{"Lock()"},
		},
		{
			name:  "tensor names",
			apply: countTensors,
			src: "\tlock.Lock()\n\tatomic.AddInt64(&TensorCount, 1)\n\tname := newName(nameOpt...)\n" +
				"\tExistingTensors[name] = struct{}{}\n\tlock.Unlock()\n\n\tx.name = name\n" +
				"func freeCTensor(ts *Tensor) error {\n\tlock.Lock()\n\tdefer lock.Unlock()\n\n" +
				"\tif _, ok := ExistingTensors[ts.name]; !ok {\n\t\tlog.Printf(\"double free\")\n\t\treturn nil\n\t}\n" +
				"\tlib.AtFree(ts.ctensor)\n\tdelete(ExistingTensors, ts.name)\n\tts.ctensor = nil\n",
			wantSites: 3,
			want:      []string{"atomic.AddInt64(&liveTensors, 1)", "atomic.AddInt64(&liveTensors, -1)", "\tts.ctensor = nil\n"},
			wantNot:   []string{"lock.Lock()", "ExistingTensors", "newName"},
		},
		{
			name:  "scalar names",
			apply: unnameScalars,
			src: "\tlock.Lock()\n\tdelete(ExistingScalars, x.name)\n\tlock.Unlock()\n" +
				"\tlock.Lock()\n\tx.name = newName(nameOpt...)\n\tExistingScalars[x.name] = struct{}{}\n\tlock.Unlock()\n",
			wantSites: 2,
			wantNot:   []string{"lock.Lock()", "ExistingScalars"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, sites := tt.apply(tt.src)
			if sites != tt.wantSites {
				t.Fatalf("sites = %d, want %d", sites, tt.wantSites)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Fatalf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Fatalf("output still has %q:\n%s", w, got)
				}
			}
			if strings.Count(got, "defer C.free") > strings.Count(got, "malloc")+strings.Count(got, "ctensorsPtr :=") {
				t.Fatalf("a buffer is freed twice:\n%s", got)
			}
		})
	}
}

func TestLibGo(t *testing.T) {
	cpu := libGo(libConfig{Libtorch: "/opt/lt", ABI: 0})
	cuda := libGo(libConfig{Libtorch: "/opt/lt", ABI: 1, CUDA: true})
	pip := libGo(libConfig{Libtorch: "/sp/torch", LibDirs: []string{"/sp/torch/lib", "/sp/nvidia/cu13/lib"}, ABI: 1, CUDA: true})
	for _, tt := range []struct {
		src, want string
	}{
		{cpu, "CXXFLAGS: -std=c++17 -O1 -g0 -w -D_GLIBCXX_USE_CXX11_ABI=0"},
		{cpu, "-Wl,-rpath,/opt/lt/lib"},
		{cuda, "-D_GLIBCXX_USE_CXX11_ABI=1"},
		{cuda, "-Wl,--no-as-needed -ltorch_cuda"},
		{pip, "-L/sp/torch/lib -Wl,-rpath,/sp/torch/lib -Wl,-rpath-link,/sp/torch/lib -Wl,-rpath,/sp/nvidia/cu13/lib -Wl,-rpath-link,/sp/nvidia/cu13/lib "},
	} {
		if !strings.Contains(tt.src, tt.want) {
			t.Fatalf("lib.go lacks %q:\n%s", tt.want, tt.src)
		}
	}
	if strings.Contains(cpu, "cuda") || strings.Contains(cpu, "SRCDIR") {
		t.Fatalf("CPU lib.go mentions cuda or SRCDIR:\n%s", cpu)
	}
	rt := rtPackage(libConfig{Libtorch: "/opt/lt", ABI: 1})
	if !strings.Contains(rt, "// #cgo CXXFLAGS: -std=c++17 -O1 -g0 -w -D_GLIBCXX_USE_CXX11_ABI=1 -I/opt/lt/include -I/opt/lt/include/torch/csrc/api/include\n") {
		t.Fatalf("rt.go lacks libtorch's C++ flags:\n%.600s", rt)
	}
	if regexp.MustCompile(`CFLAGS:.*ABI`).MatchString(cpu) {
		t.Fatalf("the ABI define is in CFLAGS, which never reaches .cpp files:\n%s", cpu)
	}
}

// TestRealModule applies every fix for each libtorch version to the
// pristine gotch v0.9.1 from the module cache, checks each fix's site count,
// that the Go files still parse, that the wrappers removed for a version are
// gone from C++ and Go alike (and kept where they compile), and that each
// multi-output wrapper got a buffer for all of its outputs.
func TestRealModule(t *testing.T) {
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/sugarme/gotch@v0.9.1").Output()
	if err != nil {
		t.Skipf("gotch v0.9.1 not downloadable here: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Skipf("go mod download gave no directory: %v", err)
	}
	for _, version := range []string{"2.1.0", "2.11.0"} {
		t.Run(version, func(t *testing.T) { checkRealModule(t, mod.Dir, version) })
	}
}

func checkRealModule(t *testing.T, dir, version string) {
	fixes, err := fixesFor(version)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{} // patched so far, by path inside the module
	for _, f := range fixes {
		paths, err := filepath.Glob(filepath.Join(dir, f.file))
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: no file (%v)", f.file, err)
		}
		total := 0
		for _, path := range paths {
			rel, _ := filepath.Rel(dir, path)
			if strings.HasSuffix(rel, "_test.go") {
				continue
			}
			src, ok := files[rel]
			if !ok {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				src = string(b)
			}
			patched, sites := f.apply(src)
			total += sites
			files[rel] = patched
		}
		if err := f.want(total); err != nil {
			t.Fatalf("%s: %s: %v", f.file, f.name, err)
		}
	}
	for rel, src := range files {
		if fatalCall.MatchString(src) && logImport.MatchString(src) {
			t.Fatalf("%s still calls the standard log.Fatal", rel)
		}
		if strings.HasSuffix(rel, ".go") {
			if _, err := parser.ParseFile(token.NewFileSet(), rel, src, parser.SkipObjectResolution); err != nil {
				t.Fatalf("%s no longer parses: %v", rel, err)
			}
		}
	}
	minor, _ := minorVersion(version)
	for _, op := range []string{"_cslt_sparse_mm", "_scaled_mm", "_scaled_mm_out"} {
		removed := slices.Contains(removedOps[minor], op)
		g := goOpName(op)
		for file, ref := range map[string]string{
			"libtch/torch_api_generated.cpp.h": "void atg_" + op + "(",
			"libtch/torch_api_generated.h":     "void atg_" + op + "(",
			"libtch/c-generated.go":            "C.atg_" + op + "(",
			"ts/tensor-generated.go":           "lib.Atg" + g + "(",
			"ts/must-tensor-generated.go":      g + "(",
		} {
			src, ok := files[file]
			if !ok {
				b, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				src = string(b)
			}
			if has := strings.Contains(src, ref); has == removed {
				t.Errorf("libtorch %s: %s has %q: %v, want %v", version, file, ref, has, !removed)
			}
		}
	}
	gen := files["ts/tensor-generated.go"]
	if strings.Contains(gen, "malloc(0)") {
		t.Fatal("tensor-generated.go still allocates malloc(0) buffers")
	}
	// Every function that reads outputs 0..k-1 must allocate 8·k bytes.
	checked := 0
	for _, fn := range splitFuncs(gen) {
		k := 0
		for strings.Contains(fn, "ctensorPtr"+strconv.Itoa(k)+" :=") {
			k++
		}
		if k < 2 {
			continue
		}
		if !strings.Contains(fn, "C.malloc(C.size_t("+strconv.Itoa(8*k)+"))") {
			t.Fatalf("a %d-output wrapper lacks a %d-byte buffer:\n%.300s", k, 8*k, fn)
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("checked %d multi-output wrappers, expected more than 100", checked)
	}
}

func TestFixesForVersion(t *testing.T) {
	for _, tt := range []struct {
		version string
		drift   int // fixes with id drift
		err     bool
	}{
		{"2.1.0", 0, false},
		{"2.1.2", 0, false},
		{"2.11.0", 5, false},
		{"2.5.1", 0, true},
		{"2", 0, true},
	} {
		fs, err := fixesFor(tt.version)
		if (err != nil) != tt.err {
			t.Fatalf("fixesFor(%q) error = %v, want error %v", tt.version, err, tt.err)
		}
		n := 0
		for _, f := range fs {
			if f.id == "drift" {
				n++
			}
		}
		if n != tt.drift {
			t.Fatalf("fixesFor(%q) has %d drift fixes, want %d", tt.version, n, tt.drift)
		}
	}
}

func TestDriftOnSnippets(t *testing.T) {
	if got := goOpName("_scaled_mm_out"); got != "_ScaledMmOut" {
		t.Fatalf("goOpName(_scaled_mm_out) = %q", got)
	}
	if got := goOpName("add_"); got != "Add_" {
		t.Fatalf("goOpName(add_) = %q", got)
	}
	cpp := "void atg__scaled_mm(tensor *out__, tensor self) {\n  PROTECT(\n    x;\n  )\n}\n\n" +
		"void atg__scaled_mm_out(tensor *out__, tensor out) {\n  PROTECT(\n  )\n}\n\nvoid atg_add(tensor *out__) {\n}\n"
	got, n := removeCDefinitions([]string{"_scaled_mm"})(cpp)
	if n != 1 || strings.Contains(got, "atg__scaled_mm(") || !strings.Contains(got, "atg__scaled_mm_out(") || !strings.Contains(got, "atg_add(") {
		t.Fatalf("removeCDefinitions: %d sites:\n%s", n, got)
	}
	h := "void atg__scaled_mm(tensor *, tensor self);\nvoid atg__scaled_mm_out(tensor *, tensor out);\n"
	got, n = removeCDeclarations([]string{"_scaled_mm_out"})(h)
	if n != 1 || got != "void atg__scaled_mm(tensor *, tensor self);\n" {
		t.Fatalf("removeCDeclarations: %d sites:\n%s", n, got)
	}
	src := "package ts\n\n// doc\nfunc (ts *Tensor) _ScaledMm() {\n}\n\nfunc _ScaledMmOut() {}\nfunc Keep() {}\n"
	got, n = removeGoFuncs([]string{"_ScaledMm"})(src)
	if n != 1 || strings.Contains(got, "_ScaledMm()") || strings.Contains(got, "// doc") || !strings.Contains(got, "_ScaledMmOut") || !strings.Contains(got, "Keep") {
		t.Fatalf("removeGoFuncs: %d sites:\n%s", n, got)
	}
}
