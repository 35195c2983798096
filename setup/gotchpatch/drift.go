package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
)

// gotch v0.9.1's wrappers were generated from libtorch 2.1's operator list.
// Against a later libtorch most of them still compile: an operator gained
// defaulted arguments at the end, or a deprecated form still exists. The
// ones below changed in a way the generated call cannot express, so the
// wrapper is removed whole — its C++ definition and declaration and the Go
// functions above it — rather than compiled against a signature it no
// longer has. outerloop calls none of them.
var removedOps = map[string][]string{
	"2.1": nil,
	// _cslt_sparse_mm gained alpha and out_dtype before transpose_result;
	// _scaled_mm(_out) take the scales before bias and return one tensor
	// where 2.1 returned (out, amax).
	"2.11": {"_cslt_sparse_mm", "_scaled_mm", "_scaled_mm_out"},
}

// fixesFor returns the fixes for libtorch version ("2.11.0"): first its API
// fixes, then every version's fixes.
func fixesFor(version string) ([]fix, error) {
	minor, err := minorVersion(version)
	if err != nil {
		return nil, err
	}
	ops, ok := removedOps[minor]
	if !ok {
		known := make([]string, 0, len(removedOps))
		for v := range removedOps {
			known = append(known, v)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("libtorch %s: gotch's generated API is known to build against %s only", version, strings.Join(known, " and "))
	}
	var fs []fix
	if len(ops) > 0 {
		n := len(ops)
		name := fmt.Sprintf("remove %d wrappers that do not compile against %s", n, minor)
		var goNames, mustNames, cNames []string
		for _, op := range ops {
			g := goOpName(op)
			goNames = append(goNames, g)
			mustNames = append(mustNames, "Must"+g)
			cNames = append(cNames, "Atg"+g)
		}
		fs = append(fs,
			fix{"drift", "libtch/torch_api_generated.cpp.h", name, removeCDefinitions(ops), exactly(n)},
			fix{"drift", "libtch/torch_api_generated.h", name, removeCDeclarations(ops), exactly(n)},
			fix{"drift", "libtch/c-generated.go", name, removeGoFuncs(cNames), exactly(n)},
			fix{"drift", "ts/tensor-generated.go", name, removeGoFuncs(goNames), exactly(n)},
			fix{"drift", "ts/must-tensor-generated.go", name, removeGoFuncs(mustNames), exactly(n)},
		)
	}
	return append(fs, commonFixes...), nil
}

// minorVersion turns "2.11.0" into "2.11".
func minorVersion(version string) (string, error) {
	parts := strings.Split(version, ".")
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", fmt.Errorf("libtorch version %q: want MAJOR.MINOR.PATCH", version)
	}
	return parts[0] + "." + parts[1], nil
}

// goOpName is the Go name gotch's generator gives a libtorch operator:
// leading underscores kept, then each word capitalised
// (_scaled_mm_out → _ScaledMmOut).
func goOpName(op string) string {
	rest := strings.TrimLeft(op, "_")
	var b strings.Builder
	b.WriteString(op[:len(op)-len(rest)])
	for _, w := range strings.Split(rest, "_") {
		if w == "" {
			b.WriteString("_") // a trailing underscore: the in-place form
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// removeCDefinitions removes `void atg_<op>(...) { ... }` from the generated
// C++ wrapper file; the body ends at the first line that is a lone `}`.
func removeCDefinitions(ops []string) func(string) (string, int) {
	return func(src string) (string, int) {
		n := 0
		for _, op := range ops {
			re := regexp.MustCompile(`(?ms)^void atg_` + regexp.QuoteMeta(op) + `\(.*?^}\n\n?`)
			n += len(re.FindAllStringIndex(src, -1))
			src = re.ReplaceAllString(src, "")
		}
		return src, n
	}
}

// removeCDeclarations removes `void atg_<op>(...);` from the generated header.
func removeCDeclarations(ops []string) func(string) (string, int) {
	return func(src string) (string, int) {
		n := 0
		for _, op := range ops {
			re := regexp.MustCompile(`(?m)^void atg_` + regexp.QuoteMeta(op) + `\([^;]*\);\n`)
			n += len(re.FindAllStringIndex(src, -1))
			src = re.ReplaceAllString(src, "")
		}
		return src, n
	}
}

// removeGoFuncs removes the top-level functions and methods with these
// names (and their doc comments) from a Go file. A file that does not parse
// changes nothing, which the site count then reports.
func removeGoFuncs(names []string) func(string) (string, int) {
	return func(src string) (string, int) {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return src, 0
		}
		type span struct{ from, to int }
		var cuts []span
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !slices.Contains(names, fd.Name.Name) {
				continue
			}
			from := fd.Pos()
			if fd.Doc != nil {
				from = fd.Doc.Pos()
			}
			to := fset.Position(fd.End()).Offset
			for to < len(src) && (src[to] == ' ' || src[to] == '\t') {
				to++
			}
			if to < len(src) && src[to] == '\n' {
				to++
			}
			cuts = append(cuts, span{fset.Position(from).Offset, to})
		}
		for i := len(cuts) - 1; i >= 0; i-- {
			src = src[:cuts[i].from] + src[cuts[i].to:]
		}
		return src, len(cuts)
	}
}
