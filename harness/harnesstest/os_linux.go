package harnesstest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockRun takes an exclusive flock on the run's folder, so two processes
// training the same run at once is an error the test sees. The kernel drops
// the lock when its holder dies, so a kill -9 does not block the resume.
func lockRun(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock run folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("run folder %s is locked: another process is training this run", dir)
		}
		return nil, fmt.Errorf("lock run folder: %w", err)
	}
	return func() { f.Close() }, nil
}

// threadID is the calling OS thread.
func threadID() int { return syscall.Gettid() }
