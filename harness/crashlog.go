package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
)

// A run that takes its whole process down — a segfault or abort() inside
// libtorch, the kernel's OOM killer, kill -9 — leaves nothing in the
// database but a lease whose holder is gone. So that the next start can say
// what happened, each scheduler has the Go runtime copy its fatal output
// (the signal and the goroutine stacks) to a file named after the process's
// lease owner; the file is removed when the scheduler ends normally. An
// empty or missing file means the process was killed from outside.

// crashLog is this process's crash output file.
type crashLog struct {
	path string
	f    *os.File
}

// openCrashLog starts copying this process's fatal output to a file in dir
// named after owner. It returns nil (and no error worth stopping for) when
// the file cannot be made: crash reports are a courtesy.
func openCrashLog(dir, owner string) *crashLog {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil
	}
	path := crashLogPath(dir, owner)
	f, err := os.Create(path)
	if err != nil {
		return nil
	}
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		f.Close()
		os.Remove(path)
		return nil
	}
	return &crashLog{path: path, f: f}
}

// close stops the copying and removes the file: this process did not crash.
func (c *crashLog) close() {
	if c == nil {
		return
	}
	debug.SetCrashOutput(nil, debug.CrashOptions{})
	c.f.Close()
	os.Remove(c.path)
	os.Remove(filepath.Dir(c.path)) // only if no other process's report is there
}

// crashLogPath names the crash file of the process that owns leases as
// owner ("host/pid/nonce", or a worker's "host/pid/nonce/wN").
func crashLogPath(dir, owner string) string {
	parts := strings.Split(owner, "/")
	if len(parts) > 3 {
		parts = parts[:3]
	}
	return filepath.Join(dir, strings.Join(parts, "_")+".log")
}

// crashReason says how the process that held a lease as owner died, from
// its crash file in dir.
func crashReason(dir, owner string) string {
	path := crashLogPath(dir, owner)
	b, err := os.ReadFile(path)
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		return "its process died without a crash report (killed: kill -9, the kernel's OOM killer, a lost machine)"
	}
	var first string
	cgo := bytes.Contains(b, []byte("signal arrived during cgo execution"))
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if crashLine(line) {
			first = line
			break
		}
	}
	if first == "" {
		first, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
	}
	where := ""
	if cgo {
		where = " inside libtorch"
	}
	return fmt.Sprintf("its process crashed%s: %s (full report: %s)", where, first, path)
}

// crashLine reports whether a line of Go's fatal output names the cause.
func crashLine(line string) bool {
	for _, p := range []string{"fatal error:", "SIG", "panic:", "unexpected signal", "runtime:"} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// soloGate lets a run that crashed its process before train alone: the
// process died holding every run in flight and cannot tell which one
// killed it, so all of them count the crash; a run trained alone next time
// is the only suspect if it happens again. Healthy runs share the gate.
type soloGate struct{ mu sync.RWMutex }

// enter waits until the run may train and returns the function that ends
// its turn.
func (g *soloGate) enter(solo bool) (leave func()) {
	if solo {
		g.mu.Lock()
		return g.mu.Unlock
	}
	g.mu.RLock()
	return g.mu.RUnlock
}
