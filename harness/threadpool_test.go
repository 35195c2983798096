package harness

import (
	"context"
	"testing"
	"time"
)

// settle waits past the rebalance interval and asks b for its count.
func settle(b *budget) int {
	time.Sleep(poolRebalance + 50*time.Millisecond)
	return b.Threads()
}

// TestThreadPoolSharesCores walks the life of two runs on a 2-core host:
// one alone grows to both cores, a second one waits until the first gives
// one back, and the threads held never outnumber the cores.
func TestThreadPoolSharesCores(t *testing.T) {
	ctx := context.Background()
	p, err := openThreadPool(t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.acquire(ctx, 1, 2, func() { t.Error("the first run waited") })
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Threads(); got != 1 {
		t.Fatalf("a run starts with %d threads, want 1", got)
	}
	if got := settle(a); got != 2 {
		t.Fatalf("a run alone holds %d threads after a rebalance, want 2 (cores / jobs)", got)
	}
	queued := make(chan struct{})
	got := make(chan *budget)
	go func() {
		b, err := p.acquire(ctx, 1, 2, func() { close(queued) })
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	<-queued // both cores are a's
	if n := p.waiters(); n != 1 {
		t.Fatalf("waiters = %d, want 1", n)
	}
	if n := settle(a); n != 1 {
		t.Fatalf("with a run waiting, the first holds %d threads, want 1", n)
	}
	b := <-got
	if n, m := a.Threads(), b.Threads(); n+m != 2 {
		t.Fatalf("threads %d + %d on 2 cores", n, m)
	}
	if n := settle(b); n != 1 {
		t.Fatalf("the second run grew to %d threads with no free core", n)
	}
	a.release()
	if n := settle(b); n != 2 {
		t.Fatalf("after the first run ended the second holds %d threads, want 2", n)
	}
	b.release()
}

// TestThreadPoolFixedWaitsForAllItsCores checks that a run with a fixed
// count takes all its cores at once or none (no deadlock on partial
// holdings), and that a slot whose holder died is free again.
func TestThreadPoolFixedWaitsForAllItsCores(t *testing.T) {
	ctx := context.Background()
	p, err := openThreadPool(t.TempDir(), 2)
	if err != nil {
		t.Fatal(err)
	}
	other := &budget{pool: p}
	if !other.grab(1) { // stands for another process's run
		t.Fatal("could not take a slot")
	}
	done := make(chan *budget)
	go func() {
		b, err := p.acquire(ctx, 2, 2, func() {})
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	select {
	case <-done:
		t.Fatal("a run needing 2 threads started with one core held elsewhere")
	case <-time.After(3 * poolPoll):
	}
	other.release() // the holder's process died: the kernel drops its lock
	b := <-done
	if n := b.Threads(); n != 2 {
		t.Fatalf("fixed budget holds %d threads, want 2", n)
	}
	b.release()
}

func TestParseCPUMax(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"max 100000", 0, false},
		{"150000 100000", 1.5, true},
		{"-1 100000", 0, false},
		{"garbage", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseCPUMax(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Fatalf("parseCPUMax(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
