package runtime

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"

	"golang.org/x/sys/unix"
)

// forwarder passes the signals a foreground cmrun ("run", "exec")
// receives on to the process it waits for.
//
// The Go runtime enables signals one at a time, each a round trip to a
// thread of its own, and in a short run those round trips competed with
// the container's start for the CPU. So only the signals that would end or
// stop cmrun are caught first, before there is a process (catchStopSignals):
// such a signal either ends cmrun before anything exists or is forwarded.
// The others, which do not end cmrun and have no program to go to before
// it runs, are caught once it runs (wait); until then the Go runtime drops
// them.
type forwarder struct {
	sigs         chan os.Signal
	stopCaught   chan struct{}
	othersCaught chan struct{} // once wait has started catching them
}

// catchStopSignals starts catching stopSignals; stopCaught closes once
// they are caught.
func catchStopSignals() *forwarder {
	f := &forwarder{sigs: make(chan os.Signal, 64), stopCaught: make(chan struct{})}
	go func() {
		signal.Notify(f.sigs, stopSignals...)
		close(f.stopCaught)
	}()
	return f
}

// stop ends the forwarding. Stop must not run before a Notify it undoes.
func (f *forwarder) stop() {
	<-f.stopCaught
	if f.othersCaught != nil {
		<-f.othersCaught
	}
	signal.Stop(f.sigs)
}

// wait waits for a process cmrun spawned (our child thanks to
// CLONE_PARENT), catches the other signals meanwhile and passes on every
// signal cmrun receives. It says on debug once every signal is caught.
func (f *forwarder) wait(pid int, tty *ttyProxy, debug func(string)) (int, error) {
	exited := make(chan struct{})
	defer close(exited)
	f.othersCaught = make(chan struct{})
	go catchOthers(f.sigs, exited, f.othersCaught, debug)

	type result struct {
		ws  unix.WaitStatus
		err error
	}
	reaped := make(chan result, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			reaped <- result{ws, err}
			return
		}
	}()
	for {
		select {
		case r := <-reaped:
			if r.err != nil {
				return 0, fmt.Errorf("wait for process %d: %w", pid, r.err)
			}
			return exitCode(r.ws), nil
		case s := <-f.sigs:
			sig := s.(unix.Signal)
			switch sig {
			case unix.SIGPIPE:
				// Caught only so that a closed stdout does not kill cmrun.
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			default:
				// Our own child cannot be recycled before we reap it.
				unix.Kill(pid, sig)
			}
		}
	}
}

// catchOthers catches otherSignals, one at a time, while the process runs.
// It stops early once exited closes: a process that has already exited has
// nothing to forward them to. It closes caught when it is done.
func catchOthers(sigs chan<- os.Signal, exited <-chan struct{}, caught chan<- struct{}, debug func(string)) {
	defer close(caught)
	for _, s := range otherSignals {
		select {
		case <-exited:
			return
		default:
			signal.Notify(sigs, s)
		}
	}
	debug("every signal is caught and forwarded to the container")
}

// stopSignals are the signals whose default action in a Go program ends
// or stops it; the Go runtime drops the other ones it is not told to catch.
var stopSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT, unix.SIGBUS, unix.SIGFPE,
	unix.SIGSEGV, unix.SIGTERM, unix.SIGSTKFLT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGSYS,
}

// otherSignals are the rest of the signals cmrun catches to pass on to the
// container (SIGWINCH resizes its terminal instead, SIGPIPE is dropped).
// The ones never passed on are left out: SIGCHLD (about cmrun's own
// children), SIGURG (the Go runtime's preemption signal), SIGKILL and
// SIGSTOP (uncatchable), and glibc's internal 32 and 33 (Go leaves those
// to glibc anyway).
var otherSignals = func() []os.Signal {
	var sigs []os.Signal
	for s := unix.Signal(1); s <= 64; s++ {
		switch {
		case s == unix.SIGKILL, s == unix.SIGSTOP, s == unix.SIGCHLD, s == unix.SIGURG, s == 32, s == 33:
		case slices.Contains(stopSignals, os.Signal(s)):
		default:
			sigs = append(sigs, s)
		}
	}
	return sigs
}()
