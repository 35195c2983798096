// Command gotchpatch turns a pristine copy of github.com/sugarme/gotch v0.9.1
// into the build outerloop uses: it writes a lib.go for the libtorch that
// setup found (CPU or CUDA, with the right C++ ABI in CXXFLAGS and an rpath),
// removes the generated wrappers that do not compile against that libtorch
// version's headers, repairs the leaks and the deadlock listed in
// docs/libtorch.md, and adds the few libtorch entry points gotch does not
// expose to Go.
//
// Usage (run by setup/setup.sh, never by hand):
//
//	go run ./setup/gotchpatch -dir third_party/gotch -libtorch DIR -version 2.11.0 -abi 1 [-libdirs DIR:DIR] [-cuda]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	var cfg libConfig
	dir := flag.String("dir", "", "the copied gotch module to patch in place")
	flag.StringVar(&cfg.Libtorch, "libtorch", "", "libtorch root (include/, lib/)")
	flag.IntVar(&cfg.ABI, "abi", 0, "value of _GLIBCXX_USE_CXX11_ABI libtorch was built with")
	flag.BoolVar(&cfg.CUDA, "cuda", false, "link libtorch_cuda")
	flag.StringVar(&cfg.Version, "version", "", "libtorch version from its headers, e.g. 2.11.0; picks the API fixes")
	libdirs := flag.String("libdirs", "", "colon-separated folders holding libtorch's libraries and their dependencies, for the rpath (default: LIBTORCH/lib)")
	skip := flag.String("skip", "", "comma-separated fix ids to leave out, to check each fix's test fails without it (never for real builds)")
	flag.Parse()
	if *dir == "" || cfg.Libtorch == "" || cfg.Version == "" {
		fmt.Fprintln(os.Stderr, "gotchpatch: -dir, -libtorch and -version are required")
		os.Exit(2)
	}
	if *libdirs != "" {
		cfg.LibDirs = strings.Split(*libdirs, ":")
	}
	if err := run(*dir, cfg, strings.Split(*skip, ",")); err != nil {
		fmt.Fprintf(os.Stderr, "gotchpatch: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, cfg libConfig, skip []string) error {
	fixes, err := fixesFor(cfg.Version)
	if err != nil {
		return err
	}
	for _, f := range fixes {
		if slices.Contains(skip, f.id) {
			fmt.Printf("  SKIPPED %-34s %s\n", f.file, f.name)
			continue
		}
		sites, err := applyFix(dir, f, cfg.Version)
		if err != nil {
			return err
		}
		fmt.Printf("  patched %-34s %-56s %5d sites\n", f.file, f.name, sites)
	}
	files := map[string]string{
		"libtch/lib.go":             libGo(cfg),
		"rt/rt.go":                  rtPackage(cfg),
		"rt/info.cpp":               rtInfoCpp,
		"ts/outerloop.go":           tsExtras,
		"internal/panicking/log.go": panickingLog,
		"kernels/kernels.go":        kernelsPackage(cfg),
		"kernels/kernels.cpp":       kernelsCpp,
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		fmt.Printf("  wrote   %s\n", name)
	}
	return nil
}

// applyFix applies f to its file, or to every non-test file its glob
// matches, and checks the total count of sites.
func applyFix(dir string, f fix, version string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, f.file))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", f.file, err)
	}
	paths = slices.DeleteFunc(paths, func(p string) bool { return strings.HasSuffix(p, "_test.go") })
	if len(paths) == 0 {
		return 0, fmt.Errorf("%s: no such file (is this gotch v0.9.1?)", f.file)
	}
	total := 0
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", path, err)
		}
		out, sites := f.apply(string(src))
		total += sites
		if out == string(src) {
			continue
		}
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			return 0, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.want(total); err != nil {
		return 0, fmt.Errorf("%s: %s: %w (is this gotch v0.9.1, and libtorch %s?)", f.file, f.name, err, version)
	}
	return total, nil
}
