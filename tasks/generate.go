package tasks

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
)

// itemRNG returns the random source for item i of a generated dataset. Each
// item has its own stream, so the data is the same for a seed whatever the
// number of workers and whichever items are rejected as duplicates.
func itemRNG(seed int64, stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream<<40^uint64(i)))
}

// generateOrdered calls gen(0), gen(1), ... on all cores and hands the
// results to accept in index order until accept reports done. It gives up
// after maxItems calls, so a request for more distinct items than exist
// (e.g. too many 4×4 Sudoku) ends in an error instead of a loop.
func generateOrdered[T any](maxItems int, gen func(i int) (T, error), accept func(T) (done bool)) error {
	chunk := 16 * runtime.GOMAXPROCS(0)
	results := make([]T, chunk)
	errs := make([]error, chunk)
	for base := 0; base < maxItems; base += chunk {
		n := min(chunk, maxItems-base)
		parallelFor(n, func(k int) { results[k], errs[k] = gen(base + k) })
		for k := 0; k < n; k++ {
			if errs[k] != nil {
				return fmt.Errorf("generate item %d: %w", base+k, errs[k])
			}
			if accept(results[k]) {
				return nil
			}
		}
	}
	return fmt.Errorf("gave up after %d attempts", maxItems)
}

// parallelFor calls f(0..n-1) on all cores and returns when all are done.
func parallelFor(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				f(i)
			}
		}(w)
	}
	wg.Wait()
}

// attemptBudget is how many candidates a generator may try for want distinct
// items before giving up.
func attemptBudget(want int) int { return 20*want + 1000 }
