package harnesstest

import (
	"syscall"
	"time"
)

// abortProcess kills this process with SIGABRT, which is what abort() in C++
// code (an uncaught exception in libtorch) does: the Go runtime prints a
// crash report and exits, and no deferred function runs.
func abortProcess() {
	syscall.Kill(syscall.Getpid(), syscall.SIGABRT)
	time.Sleep(time.Hour) // the signal is delivered asynchronously
}
