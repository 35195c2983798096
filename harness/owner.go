package harness

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A lease owner is "host/pid/nonce/wN". The host part lets a process
// recognise leases held by processes on its own machine, and the pid lets
// it see that their holder is gone, so a rerun after kill -9 takes its runs
// over at once instead of waiting out the lease timeout. The nonce tells
// apart two holders that happen to reuse a pid.

// hostKey names this machine for leases: the hostname and, where Linux
// exposes it, the pid namespace, since two containers can share a
// hostname while each has its own pids.
func hostKey() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		host += "~" + strings.Trim(strings.TrimPrefix(ns, "pid:"), "[]")
	}
	return strings.ReplaceAll(host, "/", "_")
}

// newOwnerPrefix returns "host/pid/nonce" for this process.
func newOwnerPrefix() (string, error) {
	nonce := make([]byte, 4)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("make lease owner: %w", err)
	}
	return fmt.Sprintf("%s/%d/%s", hostKey(), os.Getpid(), hex.EncodeToString(nonce)), nil
}

// deadLocalHolder reports whether owner is a process on this machine that
// no longer exists; self is this process's owner prefix. Anything it cannot
// tell is reported alive, which only means waiting for the lease to expire.
func deadLocalHolder(owner, host, self string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) < 3 || parts[0] != host {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		// Our pid with another nonce: an earlier process that had our pid
		// (a container's pid 1, say), so certainly gone.
		return !strings.HasPrefix(owner, self+"/")
	}
	return !processAlive(pid)
}
