package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"outerloop/experiments"
	"outerloop/results"
)

// LiveView draws the grid's state on a terminal: a status line (runs done
// of total, failures, elapsed, ETA) and one line per worker (run, step,
// loss), redrawn in place a few times a second. Finished runs and warnings
// scroll above it as permanent lines. The escape codes it needs are two
// (cursor up, clear to end of screen), so it uses no terminal library.
type LiveView struct {
	mu      sync.Mutex
	w       io.Writer
	width   func() int
	grid    string
	start   time.Time
	total   int
	already int
	toRun   int
	ended   map[results.Status]int
	workers map[int]*liveRun
	held    int
	log     []string // permanent lines not yet printed
	drawn   int      // lines of the live block on screen
	quit    chan struct{}
	done    chan struct{}
}

// liveRun is what a worker is doing.
type liveRun struct {
	run, label                  string
	step, first, total, threads int
	loss                        float64
	queued                      bool
}

// redrawEvery is how often the view refreshes: fast enough to look live,
// slow enough to cost nothing.
const redrawEvery = 250 * time.Millisecond

// NewLiveView starts a view drawing to w; width reports the terminal's
// columns (lines are cut to fit, so they never wrap and break the redraw).
// Close stops it.
func NewLiveView(w io.Writer, width func() int) *LiveView {
	v := &LiveView{w: w, width: width, start: time.Now(), ended: map[results.Status]int{},
		workers: map[int]*liveRun{}, quit: make(chan struct{}), done: make(chan struct{})}
	go v.loop()
	return v
}

func (v *LiveView) loop() {
	defer close(v.done)
	t := time.NewTicker(redrawEvery)
	defer t.Stop()
	for {
		select {
		case <-v.quit:
			return
		case <-t.C:
			v.Draw()
		}
	}
}

// Close stops the redraws and leaves the final state on screen.
func (v *LiveView) Close() {
	close(v.quit)
	<-v.done
	v.Draw()
}

// Observe updates the view's state; drawing happens on the view's clock.
func (v *LiveView) Observe(e Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	who := fmt.Sprintf("w%d %s", e.Worker, experiments.ShortID(e.Run))
	switch e.Kind {
	case EventPlanned:
		v.grid, v.total, v.already, v.toRun, v.start = e.Grid, e.Total, e.AlreadyDone, e.ToRun, time.Now()
		v.log = append(v.log, fmt.Sprintf("grid %s: %d runs, %d done, %d to run", e.Grid, e.Total, e.AlreadyDone, e.ToRun))
	case EventStarted:
		v.held = 0
		v.workers[e.Worker] = &liveRun{run: e.Run, label: e.Label, first: -1}
		if note := resumeNote(e); note != "" {
			v.log = append(v.log, fmt.Sprintf("%s resume %s%s", who, e.Label, note))
		}
	case EventProgress:
		if r := v.workers[e.Worker]; r != nil {
			r.step, r.total, r.loss, r.first, r.threads, r.queued = e.Step, e.Total, e.Loss, e.FirstStep, e.Threads, false
		}
	case EventQueued:
		if r := v.workers[e.Worker]; r != nil {
			r.queued = true
		}
	case EventFinished:
		delete(v.workers, e.Worker)
		v.ended[e.Status]++
		v.log = append(v.log, fmt.Sprintf("%s %s %s in %s%s", who, e.Status, e.Label, e.Wall.Round(100*time.Millisecond), errNote(e.Err)))
	case EventWaiting:
		v.held = e.Held
	case EventWarning:
		first, _, _ := strings.Cut(e.Err, "\n")
		v.log = append(v.log, fmt.Sprintf("%s warning: %s", who, first))
	case EventStopping:
		v.log = append(v.log, stoppingNote)
	}
}

// Draw replaces the live block with the current state.
func (v *LiveView) Draw() {
	v.mu.Lock()
	defer v.mu.Unlock()
	width := v.width()
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\r\x1b[%dA\x1b[J", v.drawn)
	}
	for _, l := range v.log {
		b.WriteString(cut(l, width) + "\n")
	}
	v.log = v.log[:0]
	block := v.block()
	for _, l := range block {
		b.WriteString(cut(l, width) + "\n")
	}
	v.drawn = len(block)
	io.WriteString(v.w, b.String())
}

// block renders the status line and the worker lines.
func (v *LiveView) block() []string {
	if v.grid == "" {
		return nil
	}
	finished := 0
	for _, n := range v.ended {
		finished += n
	}
	progressed, remaining := float64(finished), float64(v.toRun-finished)
	ids := make([]int, 0, len(v.workers))
	for w, r := range v.workers {
		ids = append(ids, w)
		if r.total > 0 && r.first >= 0 {
			progressed += float64(r.step-r.first) / float64(r.total)
			remaining -= float64(r.step) / float64(r.total)
		}
	}
	sort.Ints(ids)
	elapsed := time.Since(v.start)
	status := fmt.Sprintf("%s  %d/%d done", v.grid, v.already+v.ended[results.Done], v.total)
	for _, st := range []results.Status{results.Failed, results.Interrupted} {
		if v.ended[st] > 0 {
			status += fmt.Sprintf(" · %d %s", v.ended[st], st)
		}
	}
	status += fmt.Sprintf(" · %d running · %s elapsed", len(v.workers), elapsed.Round(time.Second))
	if progressed > 0 && remaining > 0 && len(v.workers) > 0 {
		eta := time.Duration(float64(elapsed) * remaining / progressed)
		status += " · ETA " + eta.Round(time.Second).String()
	}
	if v.held > 0 {
		status += fmt.Sprintf(" · waiting for %d runs leased elsewhere", v.held)
	}
	lines := []string{status}
	for _, w := range ids {
		r := v.workers[w]
		state := "starting"
		switch {
		case r.queued:
			state = queuedNote
		case r.total > 0:
			state = fmt.Sprintf("%s %d/%d loss %s%s", bar(r.step, r.total, 20), r.step, r.total, fmtLoss(r.loss), threadsNote(r.threads))
		}
		lines = append(lines, fmt.Sprintf("  w%d %s %s  %s", w, experiments.ShortID(r.run), state, r.label))
	}
	return lines
}

// bar draws step/total as a fixed-width bar.
func bar(step, total, width int) string {
	n := min(max(width*step/total, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// cut shortens s to fit in width columns (counting runes).
func cut(s string, width int) string {
	if width <= 1 || utf8.RuneCountInString(s) < width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1])
}
