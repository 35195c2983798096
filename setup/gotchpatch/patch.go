package main

import (
	"fmt"
	"regexp"
	"strings"
)

// A fix rewrites one gotch v0.9.1 source file. Each fix knows how many sites it
// expects to change, so a different upstream file fails setup loudly instead of
// building an unpatched library.
type fix struct {
	id    string                         // short name, for -skip
	file  string                         // path inside the module
	name  string                         // what it repairs, for the log
	apply func(src string) (string, int) // returns the new source and the sites changed
	want  func(sites int) error          // checks the count of changed sites
}

// commonFixes lists the transformations every libtorch version gets, in the
// order they are applied after that version's API fixes (fixesFor). A file
// may be a glob (test files excluded); its count is then the sum over files.
// docs/libtorch.md lists the bugs and what each fix changed.
var commonFixes = []fix{
	{"bigstruct", "ts/tensor.go", "drop the 100 KB bigStruct allocated per tensor", dropBigStruct, exactly(1)},
	{"buffers", "ts/tensor-generated.go", "size and free the C result buffers", freeResultBuffers, atLeast(2400)},
	{"inplace", "ts/tensor-generated.go", "free the old handle after in-place ops", freeInplaceHandle, atLeast(250)},
	{"buffers", "ts/patch.go", "size and free the C result buffers", freeResultBuffers, atLeast(4)},
	{"arrays", "ts/patch.go", "free C tensor arrays returned by split-like ops", freeTensorArrays, atLeast(5)},
	{"buffers", "ts/tensor.go", "size and free the C result buffers", freeResultBuffers, atLeast(2)},
	{"values", "ts/tensor.go", "drop the float64 copy made by Float64Values", dropValuesCopy, exactly(1)},
	{"clip", "nn/optimizer.go", "remove the re-entrant lock in ClipGradNorm", unlockClipGradNorm, exactly(1)},
	{"slices", "libtch/c-generated.go", "accept empty slices for optional list arguments", emptySliceData, atLeast(900)},
	{"strings", "libtch/c-generated.go", "free the C copies of string arguments", freeCStrings, atLeast(100)},
	{"fatal", "ts/*.go", "panic instead of exiting the process on libtorch errors", panicOnFatal, atLeast(2500)},
	{"fatal", "nn/*.go", "panic instead of exiting the process on libtorch errors", panicOnFatal, atLeast(50)},
	{"fatal", "*.go", "panic instead of exiting the process on libtorch errors", panicOnFatal, atLeast(4)},
	{"torcherr", "ts/error.go", "return libtorch errors as *ts.TorchError", typedTorchErr, exactly(1)},
	{"names", "ts/tensor.go", "count live tensors instead of naming each in a locked map", countTensors, exactly(3)},
	{"names", "ts/scalar.go", "stop naming each scalar in a locked map", unnameScalars, exactly(2)},
}

func exactly(n int) func(int) error {
	return func(got int) error {
		if got != n {
			return fmt.Errorf("changed %d sites, want exactly %d", got, n)
		}
		return nil
	}
}

func atLeast(n int) func(int) error {
	return func(got int) error {
		if got < n {
			return fmt.Errorf("changed %d sites, want at least %d", got, n)
		}
		return nil
	}
}

// dropBigStruct removes `x.d = new(bigStruct)` from newTensor. The 100 KB
// allocation only existed to make the Go heap grow so finalizers run often;
// it costs ~24 µs and ~106 KB of garbage per op. We free tensors
// explicitly instead.
func dropBigStruct(src string) (string, int) {
	const site = "\tx.d = new(bigStruct)\n"
	n := strings.Count(src, site)
	return strings.ReplaceAll(src, site, ""), n
}

// mallocSite matches the generated result-buffer allocation, e.g.
//
//	ptr := (*lib.Ctensor)(unsafe.Pointer(C.malloc(0)))
var mallocSite = regexp.MustCompile(`(?m)^([ \t]*)(\w+) := \(\*lib\.Ctensor\)\(unsafe\.Pointer\(C\.malloc\(0\)\)\)\n`)

// chainSite matches the further output slots derived from the first buffer:
//
//	ctensorPtr1 := (*lib.Ctensor)(unsafe.Pointer(uintptr(unsafe.Pointer(ctensorPtr0)) + unsafe.Sizeof(ctensorPtr0)))
var chainSite = regexp.MustCompile(`\w+ := \(\*lib\.Ctensor\)\(unsafe\.Pointer\(uintptr\(unsafe\.Pointer\(`)

// freeResultBuffers sizes each `C.malloc(0)` result buffer for the number of
// handles the C side writes into it (one per output; ops with ≥ 4 outputs used
// to overflow glibc's 24-byte chunk) and frees it when the wrapper returns
// (it leaked ~32 B per op). The handles are copied into Go tensors before the
// deferred free runs.
func freeResultBuffers(src string) (string, int) {
	funcs := splitFuncs(src)
	n := 0
	for i, body := range funcs {
		locs := mallocSite.FindAllStringSubmatchIndex(body, -1)
		if len(locs) == 0 {
			continue
		}
		var b strings.Builder
		last := 0
		for _, loc := range locs {
			indent, name := body[loc[2]:loc[3]], body[loc[4]:loc[5]]
			slots := 1 + len(chainSite.FindAllStringIndex(body, -1))
			if len(locs) > 1 {
				slots = 1 // several buffers in one function: each is a single slot
			}
			b.WriteString(body[last:loc[0]])
			fmt.Fprintf(&b, "%s%s := (*lib.Ctensor)(unsafe.Pointer(C.malloc(C.size_t(%d))))\n", indent, name, 8*slots)
			free := fmt.Sprintf("defer C.free(unsafe.Pointer(%s))", name)
			rest := body[loc[1]:]
			if !strings.HasPrefix(strings.TrimLeft(rest, " \t"), free) {
				fmt.Fprintf(&b, "%s%s\n", indent, free)
			}
			last = loc[1]
			n++
		}
		b.WriteString(body[last:])
		funcs[i] = b.String()
	}
	return strings.Join(funcs, ""), n
}

// splitFuncs cuts a Go file into pieces that each start at a top-level func,
// so per-function counts do not leak between functions.
func splitFuncs(src string) []string {
	var parts []string
	start := 0
	for i := strings.Index(src, "\nfunc"); i >= 0; {
		parts = append(parts, src[start:i+1])
		start = i + 1
		j := strings.Index(src[start:], "\nfunc")
		if j < 0 {
			break
		}
		i = start + j
	}
	return append(parts, src[start:])
}

// inplaceSite matches the handle swap at the end of every generated in-place
// op. The C side returns a second handle to the same TensorImpl; the old one
// was never deleted and pinned the storage forever.
var inplaceSite = regexp.MustCompile(`(?m)^([ \t]*)ts\.ctensor = \*ptr\n`)

func freeInplaceHandle(src string) (string, int) {
	n := len(inplaceSite.FindAllStringIndex(src, -1))
	out := inplaceSite.ReplaceAllString(src, "${1}lib.AtFree(ts.ctensor)\n${1}ts.ctensor = *ptr\n")
	return out, n
}

// tensorArraySite matches ops whose C side mallocs a NULL-terminated array of
// handles (split, chunk, unbind...); the array itself was never freed.
var tensorArraySite = regexp.MustCompile(`(?m)^([ \t]*)ctensorsPtr := (lib\.Atg\w+\(.*\))\n`)

func freeTensorArrays(src string) (string, int) {
	n := len(tensorArraySite.FindAllStringIndex(src, -1))
	out := tensorArraySite.ReplaceAllString(src,
		"${1}ctensorsPtr := ${2}\n${1}defer C.free(unsafe.Pointer(ctensorsPtr))\n")
	return out, n
}

// unlockClipGradNorm removes the outer varstore lock in ClipGradNorm:
// TrainableVariables takes the same non-re-entrant mutex, so the call
// deadlocked.
func unlockClipGradNorm(src string) (string, int) {
	const site = "\topt.varstore.Lock()\n\tdefer opt.varstore.Unlock()\n\tparameters := opt.varstore.TrainableVariables()\n"
	n := strings.Count(src, site)
	return strings.Replace(src, site, "\tparameters := opt.varstore.TrainableVariables()\n", 1), n
}

// dropValuesCopy frees the float64 copy Float64Values makes to read a tensor;
// upstream left its drop commented out, so every read leaked a handle until
// the garbage collector happened to run.
func dropValuesCopy(src string) (string, int) {
	const site = "\t// float64Ts.MustDrop()\n"
	n := strings.Count(src, site)
	return strings.ReplaceAll(src, site, "\tfloat64Ts.MustDrop()\n"), n
}

// firstElem matches `&xData[0]` pointer taken from a Go slice argument.
var firstElem = regexp.MustCompile(`unsafe\.Pointer\(&(\w+)\[0\]\)`)

// emptySliceData takes slice data pointers with unsafe.SliceData, which is
// nil for an empty slice: the C side reads nil as "argument absent", where
// `&x[0]` panicked (e.g. linalg_norm's optional dim, hit by ClipGradNorm).
func emptySliceData(src string) (string, int) {
	n := len(firstElem.FindAllStringIndex(src, -1))
	return firstElem.ReplaceAllString(src, "unsafe.Pointer(unsafe.SliceData($1))"), n
}

// cString matches a string argument copied to C, e.g. `cord := C.CString(ord)`.
var cString = regexp.MustCompile(`(?m)^(\w+) := C\.CString\((\w+)\)\n`)

// freeCStrings frees those copies when the wrapper returns (the C side
// copies the characters into a std::string); each used to leak.
func freeCStrings(src string) (string, int) {
	n := len(cString.FindAllStringIndex(src, -1))
	out := cString.ReplaceAllString(src, "$1 := C.CString($2)\ndefer C.free(unsafe.Pointer($1))\n")
	return strings.Replace(out, "//#include \"stdbool.h\" \n", "//#include \"stdbool.h\" \n//#include \"stdlib.h\"\n", 1), n
}

// logImport matches the standard library log import on a line of its own.
var logImport = regexp.MustCompile(`(?m)^([ \t]*)"log"[ \t]*$`)

// fatalCall matches log.Fatal, log.Fatalf and log.Fatalln calls.
var fatalCall = regexp.MustCompile(`\blog\.Fatal(f|ln)?\(`)

// panicOnFatal points a file's log import at the package panicking (written
// by this patcher), whose Fatal functions panic with an error. Every Must*
// wrapper calls log.Fatal on a libtorch error, which exited the process: one
// run of a grid that ran out of memory killed all the others. A panic is
// recovered by the run that caused it. The count is the number of Fatal calls
// the new import now covers.
func panicOnFatal(src string) (string, int) {
	if !logImport.MatchString(src) {
		return src, 0
	}
	n := len(fatalCall.FindAllStringIndex(src, -1))
	return logImport.ReplaceAllString(src, `${1}log "github.com/sugarme/gotch/internal/panicking"`), n
}

// typedTorchErr makes TorchErr return a *TorchError (defined in
// ts/outerloop.go) holding libtorch's message, so callers can tell a
// libtorch exception from other failures and report its first line.
func typedTorchErr(src string) (string, int) {
	const site = "\t\treturn fmt.Errorf(\"Libtorch API Error: %v\\n%v\\n\", errStr, trace)\n"
	n := strings.Count(src, site)
	out := strings.ReplaceAll(src, site, "\t\treturn &TorchError{Msg: errStr, Stack: trace}\n")
	// That call was the file's only use of fmt.
	return strings.Replace(out, "\t\"fmt\"\n", "", 1), n
}

// countTensors removes the per-tensor name bookkeeping from newTensor and
// freeCTensor. gotch formatted a unique name for every tensor with
// fmt.Sprintf and kept it in a map under a global mutex, taken again on
// free: about 1 µs of the Go side of every op, for a registry only its
// leak report read. A live count (LiveTensors) is all we need; the
// double-free guard stays, since a freed tensor's handle is set to nil.
// The three sites: the naming block, the map check on free, the delete.
func countTensors(src string) (string, int) {
	n := 0
	const start, end = "\tlock.Lock()\n\tatomic.AddInt64(&TensorCount, 1)\n", "\tx.name = name\n"
	if i := strings.Index(src, start); i >= 0 {
		if j := strings.Index(src[i:], end); j >= 0 {
			src = src[:i] + "\tatomic.AddInt64(&TensorCount, 1)\n\tatomic.AddInt64(&liveTensors, 1)\n" +
				"\tif len(nameOpt) > 0 {\n\t\tx.name = nameOpt[0]\n\t}\n" + src[i+j+len(end):]
			n++
		}
	}
	guard := regexp.MustCompile(`(?s)\tlock\.Lock\(\)\n\tdefer lock\.Unlock\(\)\n\n\tif _, ok := ExistingTensors\[ts\.name\]; !ok \{\n.*?\n\t\}\n`)
	if loc := guard.FindStringIndex(src); loc != nil {
		src = src[:loc[0]] + src[loc[1]:]
		n++
	}
	const del = "\tdelete(ExistingTensors, ts.name)\n"
	if strings.Contains(src, del) {
		src = strings.Replace(src, del, "\tatomic.AddInt64(&liveTensors, -1)\n", 1)
		n++
	}
	return src, n
}

// unnameScalars drops the same bookkeeping for scalars, which are made per
// op wherever a Go float meets a tensor.
func unnameScalars(src string) (string, int) {
	sites := []string{
		"\tlock.Lock()\n\tx.name = newName(nameOpt...)\n\tExistingScalars[x.name] = struct{}{}\n\tlock.Unlock()\n",
		"\tlock.Lock()\n\tdelete(ExistingScalars, x.name)\n\tlock.Unlock()\n",
	}
	n := 0
	for _, site := range sites {
		if strings.Contains(src, site) {
			src = strings.Replace(src, site, "", 1)
			n++
		}
	}
	return src, n
}
