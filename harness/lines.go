package harness

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"outerloop/experiments"
	"outerloop/results"
)

// LinePrinter writes one line per event, for logs and pipes (a Slurm
// output file, CI): plan, start, finish, warnings, and progress at every
// tenth of a run so a log shows it is alive without flooding.
type LinePrinter struct {
	mu     sync.Mutex
	w      io.Writer
	decile map[int]int // last progress tenth printed, by worker; -1 before the first
	start  time.Time
	done   int
	toRun  int
}

// NewLinePrinter returns a LinePrinter writing to w.
func NewLinePrinter(w io.Writer) *LinePrinter {
	return &LinePrinter{w: w, decile: map[int]int{}}
}

// Observe prints e if it is worth a line.
func (p *LinePrinter) Observe(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ts := e.Time.Format("15:04:05")
	who := fmt.Sprintf("w%d %s", e.Worker, experiments.ShortID(e.Run))
	switch e.Kind {
	case EventPlanned:
		p.start, p.toRun = e.Time, e.ToRun
		fmt.Fprintf(p.w, "%s grid %s: %d runs, %d done, %d to run\n", ts, e.Grid, e.Total, e.AlreadyDone, e.ToRun)
	case EventStarted:
		p.decile[e.Worker] = -1
		fmt.Fprintf(p.w, "%s %s start %s%s\n", ts, who, e.Label, resumeNote(e))
	case EventProgress:
		if e.Total <= 0 {
			return
		}
		d, last := 10*e.Step/e.Total, p.decile[e.Worker]
		if d <= last || d >= 10 {
			return
		}
		p.decile[e.Worker] = d
		if last < 0 {
			return // where a run starts or resumes is in its start line
		}
		fmt.Fprintf(p.w, "%s %s step %d/%d loss %s%s\n", ts, who, e.Step, e.Total, fmtLoss(e.Loss), threadsNote(e.Threads))
	case EventFinished:
		p.done++
		fmt.Fprintf(p.w, "%s %s %s in %s (%d/%d)%s\n", ts, who, e.Status, e.Wall.Round(100*time.Millisecond),
			p.done, p.toRun, errNote(e.Err))
	case EventWaiting:
		fmt.Fprintf(p.w, "%s w%d waiting: %d runs are leased by other processes\n", ts, e.Worker, e.Held)
	case EventQueued:
		fmt.Fprintf(p.w, "%s %s %s\n", ts, who, queuedNote)
	case EventWarning:
		fmt.Fprintf(p.w, "%s %s warning: %s\n", ts, who, e.Err)
	case EventStopping:
		fmt.Fprintf(p.w, "%s %s\n", ts, stoppingNote)
	}
}

// resumeNote says how a started run picks up.
func resumeNote(e Event) string {
	switch {
	case e.Resumed == results.Pending && e.Attempt <= 1:
		return ""
	case e.FromStep != results.NoCheckpoint:
		return fmt.Sprintf(" (attempt %d, %s, checkpoint at step %d)", e.Attempt, e.Resumed, e.FromStep)
	}
	return fmt.Sprintf(" (attempt %d, %s, no checkpoint)", e.Attempt, e.Resumed)
}

// errNote is the first line of an error, for one-line output; the whole
// text (a panic's stack) is in the database.
func errNote(err string) string {
	if err == "" {
		return ""
	}
	first, _, _ := strings.Cut(err, "\n")
	return ": " + first
}

func fmtLoss(v float64) string { return fmt.Sprintf("%.4g", v) }

// queuedNote is what printers say on EventQueued.
const queuedNote = "waiting for a free core (runs on this host hold them all)"

// threadsNote shows a run's libtorch threads, when known.
func threadsNote(n int) string {
	switch {
	case n == 1:
		return " (1 thread)"
	case n > 1:
		return fmt.Sprintf(" (%d threads)", n)
	}
	return ""
}
