package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
)

// The cores of a host are shared by every run on it, whether the runs come
// from one `harness run` or several processes (on one database or not):
// libtorch's OpenMP threads spin while they wait, so two processes that
// each size their threads as if they owned the machine ran 8× slower.
//
// A threadPool is a folder with one slot file per usable core. A run holds
// one slot, locked with flock, for each libtorch thread it uses, so the
// threads of all runs on the host never outnumber its cores; the kernel
// drops a dead process's locks, so a crashed run's cores come back by
// themselves. A run that finds no free slot registers as a waiter (a
// locked wait-* file) and polls. Runs without a fixed thread count start
// with one slot, grow into free slots while nobody waits, and give their
// extra slots back when someone does; train applies the new count between
// steps.

// poolRebalance is how often a run looks at the pool: often enough that a
// newcomer waits about a training step, rarely enough to cost nothing.
const poolRebalance = 500 * time.Millisecond

// poolPoll is how often a waiting run tries the slots again.
const poolPoll = 100 * time.Millisecond

// threadPool is a host's (or cpuset's) cores as lockable slots.
type threadPool struct {
	dir   string
	cores int
}

// defaultPoolDir is the folder of the pool for these cores: per user and
// per cpuset, under the temporary folder.
func defaultPoolDir(c Cores) string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("outerloop-%d", os.Getuid()),
		fmt.Sprintf("threads-cpus%s-n%d", cpuSetKey(), c.N))
}

func openThreadPool(dir string, cores int) (*threadPool, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open thread pool %s: %w", dir, err)
	}
	return &threadPool{dir: dir, cores: max(cores, 1)}, nil
}

// budget is the slots one run holds; Threads is what train asks between
// steps. It is used by the run's goroutine only, except current, which
// progress events read.
type budget struct {
	pool     *threadPool
	slots    []*os.File
	min, max int
	next     time.Time
	now      atomic.Int32
}

// acquire waits until the run holds min slots (all at once, so two runs
// that each need several cannot deadlock holding part of them) and returns
// its budget, which may grow to max. waiting is called once if it has to
// wait.
func (p *threadPool) acquire(ctx context.Context, min, max int, waiting func()) (*budget, error) {
	min = clamp(min, 1, p.cores)
	b := &budget{pool: p, min: min, max: clamp(max, min, p.cores)}
	var wait *os.File
	defer func() {
		if wait != nil {
			wait.Close()
			os.Remove(wait.Name())
		}
	}()
	for {
		if b.grab(min) {
			b.now.Store(int32(len(b.slots)))
			b.next = time.Now().Add(poolRebalance)
			return b, nil
		}
		b.release()
		if wait == nil {
			var err error
			if wait, err = p.register(); err != nil {
				return nil, err
			}
			waiting()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poolPoll):
		}
	}
}

// grab tries to add n slots to the budget and reports whether it got them
// all (the ones it got are kept; the caller releases on failure).
func (b *budget) grab(n int) bool {
	for i := 0; i < b.pool.cores && n > 0; i++ {
		f, err := os.OpenFile(filepath.Join(b.pool.dir, fmt.Sprintf("slot-%d", i)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
			f.Close() // held, by another run or by this one through another file
			continue
		}
		b.slots = append(b.slots, f)
		n--
	}
	return n == 0
}

// Threads returns the run's thread count, first rebalancing when it is due:
// an extra slot goes back while another run waits, and a free slot is taken
// while nobody does and the budget has room.
func (b *budget) Threads() int {
	if now := time.Now(); now.After(b.next) {
		b.next = now.Add(poolRebalance)
		waiters := b.pool.waiters()
		switch {
		case waiters > 0 && len(b.slots) > b.min:
			last := b.slots[len(b.slots)-1]
			b.slots = b.slots[:len(b.slots)-1]
			last.Close()
		case waiters == 0 && len(b.slots) < b.max:
			b.grab(1)
		}
		b.now.Store(int32(len(b.slots)))
	}
	return len(b.slots)
}

func (b *budget) current() int { return int(b.now.Load()) }

// release gives every slot back.
func (b *budget) release() {
	for _, f := range b.slots {
		f.Close()
	}
	b.slots = nil
	b.now.Store(0)
}

// register marks one more run waiting for a slot, until its file closes.
func (p *threadPool) register() (*os.File, error) {
	nonce := make([]byte, 4)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("wait for a core: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(p.dir, fmt.Sprintf("wait-%d-%s", os.Getpid(), hex.EncodeToString(nonce))), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("wait for a core: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("wait for a core: %w", err)
	}
	return f, nil
}

// waiters counts runs waiting for a slot; a wait file nobody locks belongs
// to a process that died waiting and is removed.
func (p *threadPool) waiters() int {
	names, _ := filepath.Glob(filepath.Join(p.dir, "wait-*"))
	n := 0
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			n++
		} else if err == nil {
			os.Remove(name)
		}
		f.Close()
	}
	return n
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }
