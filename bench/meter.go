package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// Meter runs contenders under the measure helper (measure/measure.c,
// compiled with BuildC), which starts each one from a small C process,
// times it and reads its rusage with wait4. The helper exists because a
// program started straight from this Go process would inherit the Go
// process's peak RSS as its own ru_maxrss floor (see measure.c).
type Meter struct {
	Helper string // absolute path of the compiled measure helper
}

// Sample is one timed run of a Command.
type Sample struct {
	Name   string
	Config string
	Round  int           // which round-robin round it belonged to, from 0
	Wall   time.Duration // from the helper's spawn of the contender to wait4 returning
	// MaxRSSKiB is ru_maxrss from wait4: the peak resident memory of the
	// contender process itself or of the largest of the descendants it
	// reaped (for runc and cmrun, their "init" re-exec before it execs the
	// container's program), whichever is larger.
	MaxRSSKiB int64
}

// ErrFailed means a contender ran but exited non-zero or died of a
// signal; the error text carries what it wrote to stderr.
var ErrFailed = errors.New("contender failed")

// Spawn runs c once under the helper and returns its measurement.
func (m Meter) Spawn(c Command) (Sample, error) {
	argv := append([]string{m.Helper}, c.Argv(NewID(c.Name))...)
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return Sample{}, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devnull.Close()
	// stderr goes through a pipe so a failure can say why; a goroutine
	// drains it so a chatty child can never block on a full pipe.
	errR, errW, err := os.Pipe()
	if err != nil {
		return Sample{}, fmt.Errorf("stderr pipe for %s: %w", c.Name, err)
	}
	defer errR.Close()
	var stderr bytes.Buffer
	drained := make(chan struct{})
	go func() {
		_, _ = io.Copy(&stderr, errR)
		close(drained)
	}()
	// The helper writes one short line to fd 3 just before it exits; it
	// fits in the pipe's buffer, so it can be read after the wait.
	reportR, reportW, err := os.Pipe()
	if err != nil {
		errW.Close()
		return Sample{}, fmt.Errorf("report pipe for %s: %w", c.Name, err)
	}
	defer reportR.Close()

	attr := &syscall.ProcAttr{
		Dir:   c.Dir,
		Env:   os.Environ(),
		Files: []uintptr{devnull.Fd(), devnull.Fd(), errW.Fd(), reportW.Fd()},
	}
	pid, err := syscall.ForkExec(argv[0], argv, attr)
	// Close our copies of the write ends now, so the readers see EOF once
	// the child's copies are gone.
	errW.Close()
	reportW.Close()
	if err != nil {
		<-drained
		return Sample{}, fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)
	}
	var status syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &status, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	<-drained
	if err != nil {
		return Sample{}, fmt.Errorf("wait4 for %s (pid %d): %w", c.Name, pid, err)
	}
	if !status.Exited() || status.ExitStatus() != 0 {
		return Sample{}, fmt.Errorf("%s: %w (%s): %s", strings.Join(argv[1:], " "), ErrFailed,
			describe(status), strings.TrimSpace(stderr.String()))
	}
	report, err := io.ReadAll(reportR)
	if err != nil {
		return Sample{}, fmt.Errorf("read report of %s: %w", c.Name, err)
	}
	s := Sample{Name: c.Name, Config: c.Config}
	var ns int64
	if _, err := fmt.Sscanf(string(report), "%d %d\n", &ns, &s.MaxRSSKiB); err != nil {
		return Sample{}, fmt.Errorf("parse report %q of %s: %w", report, c.Name, err)
	}
	s.Wall = time.Duration(ns)
	return s, nil
}

// describe says how a process ended, as a shell would.
func describe(s syscall.WaitStatus) string {
	if s.Signaled() {
		return fmt.Sprintf("killed by signal %d (%s)", int(s.Signal()), s.Signal())
	}
	return fmt.Sprintf("exit status %d", s.ExitStatus())
}
