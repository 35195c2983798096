package harness_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"outerloop/harness"
	"outerloop/results"
)

const runID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// script is a short grid: one run resumes from step 40 of 100 and fails.
func script() []harness.Event {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	evs := []harness.Event{
		{Kind: harness.EventPlanned, Grid: "g", Total: 4, AlreadyDone: 1, ToRun: 3},
		{Kind: harness.EventStarted, Worker: 1, Run: runID, Label: "train.loops=4 seed=1", Attempt: 2,
			Resumed: results.Interrupted, FromStep: 40},
	}
	for step := 41; step <= 100; step++ {
		evs = append(evs, harness.Event{Kind: harness.EventProgress, Worker: 1, Run: runID, Step: step, FirstStep: 41, Total: 100, Loss: 1 / float64(step)})
	}
	evs = append(evs,
		harness.Event{Kind: harness.EventWaiting, Worker: 2, Held: 1},
		harness.Event{Kind: harness.EventFinished, Worker: 1, Run: runID, Label: "train.loops=4 seed=1",
			Status: results.Failed, Err: "panic: boom\ngoroutine 7 [running]:", Wall: 1500 * time.Millisecond},
	)
	for i := range evs {
		evs[i].Time, evs[i].Grid = t0, "g"
	}
	return evs
}

func TestLinePrinter(t *testing.T) {
	var buf bytes.Buffer
	p := harness.NewLinePrinter(&buf)
	for _, e := range script() {
		p.Observe(e)
	}
	p.Observe(harness.Event{Kind: harness.EventStopping, Time: script()[0].Time})
	want := []string{
		"03:04:05 grid g: 4 runs, 1 done, 3 to run",
		"03:04:05 w1 0123456789ab start train.loops=4 seed=1 (attempt 2, interrupted, checkpoint at step 40)",
		"03:04:05 w1 0123456789ab step 50/100 loss 0.02",
		"03:04:05 w1 0123456789ab step 60/100 loss 0.01667",
		"03:04:05 w1 0123456789ab step 70/100 loss 0.01429",
		"03:04:05 w1 0123456789ab step 80/100 loss 0.0125",
		"03:04:05 w1 0123456789ab step 90/100 loss 0.01111",
		"03:04:05 w2 waiting: 1 runs are leased by other processes",
		"03:04:05 w1 0123456789ab failed in 1.5s (1/3): panic: boom",
		"03:04:05 stopping: runs in flight save and are marked interrupted (interrupt again to exit at once)",
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLiveViewDrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	const width = 70
	v := harness.NewLiveView(&buf, func() int { return width })
	evs := script()
	for _, e := range evs[:len(evs)-32] { // stop at step 70, still running
		v.Observe(e)
	}
	v.Draw()
	first := buf.String()
	for _, want := range []string{
		"grid g: 4 runs, 1 done, 3 to run\n",
		"w1 0123456789ab resume train.loops=4 seed=1 (attempt 2",
		"g  1/4 done · 1 running",
		"  w1 0123456789ab [##############------] 70/100 loss 0.01429",
	} {
		if !strings.Contains(first, want) {
			t.Fatalf("first draw:\n%s\nlacks %q", first, want)
		}
	}
	for _, l := range strings.Split(first, "\n") {
		if n := utf8.RuneCountInString(l); n >= width {
			t.Fatalf("line %q is %d runes, want < %d so it never wraps", l, n, width)
		}
	}
	buf.Reset()
	for _, e := range evs[len(evs)-32:] {
		v.Observe(e)
	}
	v.Close()
	second := buf.String()
	// The 2-line block (status + worker) is erased, the failure scrolls
	// above, and the block is redrawn without the finished worker.
	if !strings.HasPrefix(second, "\r\x1b[2A\x1b[J") {
		t.Fatalf("second draw starts %q, want the cursor moved up over the 2-line block", second[:min(12, len(second))])
	}
	for _, want := range []string{"w1 0123456789ab failed train.loops=4 seed=1 in 1.5s: panic: boom\n", "1 failed · 0 running"} {
		if !strings.Contains(second, want) {
			t.Fatalf("second draw:\n%q\nlacks %q", second, want)
		}
	}
	if strings.Contains(second, "goroutine 7") {
		t.Fatalf("second draw shows the panic's stack; the view should show its first line only")
	}
	// Closed: an event still updates state but nothing is drawn.
	v.Observe(harness.Event{Kind: harness.EventStarted, Worker: 2, Run: runID})
	time.Sleep(300 * time.Millisecond)
	if after := buf.String(); after != second {
		t.Fatalf("the view drew after Close")
	}
}
