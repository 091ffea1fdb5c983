package runtime

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// Trace records the steps of setting up a container and how long each
// took. The init runs in another process, so it sends its steps to the
// parent, which prints the whole story in order. Wall-clock time is used
// because it is the one clock every process (and time namespace) shares.
type Trace struct {
	Steps []TraceStep
	on    bool
}

// TraceStep is one timed step.
type TraceStep struct {
	Name  string        `json:"name"`
	Who   string        `json:"who"` // "cmrun" or "init"
	Start time.Time     `json:"start"`
	Dur   time.Duration `json:"dur"`
}

// NewTrace returns a trace that records only when on is true; a nil or
// off trace costs one branch per step.
func NewTrace(on bool) *Trace { return &Trace{on: on} }

// On reports whether steps are recorded.
func (t *Trace) On() bool { return t != nil && t.on }

// Step starts a step and returns the function that ends it.
func (t *Trace) Step(who, format string, args ...any) func() {
	if !t.On() {
		return func() {}
	}
	start := time.Now()
	return func() { t.Record(who, start, format, args...) }
}

// Record adds a step that began at start and ends now, for steps whose
// name is known only at their end.
func (t *Trace) Record(who string, start time.Time, format string, args ...any) {
	t.Span(who, start, time.Now(), format, args...)
}

// Span adds a step that ran from start to end, for steps timed by
// another goroutine (a Trace is not safe for concurrent use).
func (t *Trace) Span(who string, start, end time.Time, format string, args ...any) {
	if t.On() {
		t.Steps = append(t.Steps, TraceStep{Name: fmt.Sprintf(format, args...), Who: who, Start: start, Dur: end.Sub(start)})
	}
}

// Add merges steps recorded by another process.
func (t *Trace) Add(steps []TraceStep) {
	if t.On() {
		t.Steps = append(t.Steps, steps...)
	}
}

// Print writes one line per step: offset from the first step, duration, who, what.
func (t *Trace) Print(w io.Writer) {
	if !t.On() || len(t.Steps) == 0 {
		return
	}
	sort.SliceStable(t.Steps, func(i, j int) bool { return t.Steps[i].Start.Before(t.Steps[j].Start) })
	t0 := t.Steps[0].Start
	for _, s := range t.Steps {
		fmt.Fprintf(w, "trace %9.3fms %8.3fms  %-5s %s\n",
			float64(s.Start.Sub(t0).Microseconds())/1000, float64(s.Dur.Microseconds())/1000, s.Who, s.Name)
	}
}

// ProcessStart estimates when the calling process was forked: now less
// the time its main thread has spent on a CPU and waiting for one
// (/proc/self/schedstat, in nanoseconds). Called first thing in main, it
// covers exec, the Go runtime's start and the package inits, which no
// step of the process can time itself; the main thread does not sleep
// before main, so nothing is missed but the caller's fork.
func ProcessStart(now time.Time) (time.Time, error) {
	data, err := os.ReadFile("/proc/self/schedstat")
	if err != nil {
		return now, err
	}
	var onCPU, waiting int64
	if _, err := fmt.Sscan(string(data), &onCPU, &waiting); err != nil {
		return now, fmt.Errorf("parse /proc/self/schedstat %q: %w", data, err)
	}
	return now.Add(-time.Duration(onCPU + waiting)), nil
}
