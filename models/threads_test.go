package models

import (
	"runtime"
	"testing"
)

// TestThreadBudgetIsPerThread checks what the harness's per-run thread
// budget rests on: libtorch's intra-op thread count belongs to the OS thread
// that set it. Two runs on two locked threads set 1 and 2; each keeps its
// own. (Without SetThreads's first read, a thread's first op would adopt the
// count set last anywhere in the process: run A would read 2 here.)
func TestThreadBudgetIsPerThread(t *testing.T) {
	onThread := func(f func()) {
		done := make(chan struct{})
		go func() {
			runtime.LockOSThread() // exits locked: the thread goes with it
			f()
			close(done)
		}()
		<-done
	}
	aSet, bSet, aRead := make(chan struct{}), make(chan struct{}), make(chan int)
	go func() {
		runtime.LockOSThread()
		SetThreads(1)
		close(aSet)
		<-bSet
		aRead <- Threads()
	}()
	<-aSet
	onThread(func() {
		SetThreads(2)
		if got := Threads(); got != 2 {
			t.Errorf("run B reads %d threads after setting 2", got)
		}
	})
	close(bSet)
	if got := <-aRead; got != 1 {
		t.Fatalf("run A reads %d threads after run B set 2 on its own thread, want its own 1", got)
	}
}
