package harness

import (
	"time"

	"outerloop/results"
)

// The scheduler reports what happens through an EventSink and never draws;
// printers (the live terminal view, plain lines for logs) sit behind the
// interface, as restic's progress printers do. (What a run produces —
// metrics, evaluations, checkpoints — goes to its Recorder instead.)

// EventSink receives the scheduler's events. Observe is called from many
// goroutines (one per worker) and must be quick: a printer that draws
// keeps state and redraws on its own clock.
type EventSink interface {
	Observe(Event)
}

// EventKind says what an Event reports.
type EventKind int

// The event kinds.
const (
	// EventPlanned: the grid is in the database. Total, AlreadyDone and
	// ToRun are set.
	EventPlanned EventKind = iota
	// EventStarted: a worker claimed Run. Attempt and Resumed are set.
	EventStarted
	// EventProgress: the run reached Step of Total with Loss.
	EventProgress
	// EventFinished: the attempt ended with Status (and Err) after Wall.
	EventFinished
	// EventWaiting: nothing is claimable but Held runs are leased by other
	// processes; the worker waits for them to finish or expire.
	EventWaiting
	// EventWarning: something went wrong that does not stop the grid
	// (a failed heartbeat); Err says what.
	EventWarning
	// EventStopping: the context was cancelled (Ctrl-C); runs in flight
	// are saving and will be marked interrupted.
	EventStopping
	// EventQueued: the run waits for a free core on this host (other runs,
	// from this process or others, hold them all).
	EventQueued
)

// stoppingNote is what printers say on EventStopping.
const stoppingNote = "stopping: runs in flight save and are marked interrupted (interrupt again to exit at once)"

// Event is one thing that happened. Worker numbers start at 1; 0 is the
// scheduler itself.
type Event struct {
	Kind   EventKind
	Time   time.Time
	Worker int
	Grid   string

	// The run, for Started, Progress and Finished.
	Run   string // full id
	Label string // the run's values of the grid's varying keys, "train.loops=4 seed=1"

	Attempt   int            // Started: 1 for a first attempt
	Resumed   results.Status // Started: the status it was claimed from (pending, interrupted, running, failed)
	FromStep  int            // Started: the last checkpoint step recorded, or results.NoCheckpoint
	Step      int            // Progress
	FirstStep int            // Progress: the first step this attempt reported (after resuming)
	Total     int            // Progress: total steps; Planned: runs in the grid
	Loss      float64        // Progress
	Threads   int            // Progress: the run's libtorch threads now
	Status    results.Status // Finished
	Err       string         // Finished (failed, interrupted), Warning
	Wall      time.Duration  // Finished: this attempt's wall time

	AlreadyDone int // Planned: runs done before this invocation
	ToRun       int // Planned: runs left to train
	Held        int // Waiting: runs leased by other processes
}

// Summary is what one Scheduler.Run did and where the grid stands after it.
type Summary struct {
	Total       int                    // runs in the grid
	AlreadyDone int                    // done before this invocation
	Trained     map[results.Status]int // attempts this invocation ended, by end status
	Final       map[results.Status]int // the grid's runs by status at the end
	Failures    []Failure              // runs that failed in this invocation
}

// Failure is a run that failed, with its reason.
type Failure struct {
	Run   string
	Label string
	Err   string
}

// sinks fans events out to several sinks.
type sinks []EventSink

// Observe passes e to each sink.
func (ss sinks) Observe(e Event) {
	for _, s := range ss {
		s.Observe(e)
	}
}

// Tee returns an EventSink that passes every event to each of ss in turn.
func Tee(ss ...EventSink) EventSink { return sinks(ss) }
