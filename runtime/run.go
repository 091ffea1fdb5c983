package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"

	"golang.org/x/sys/unix"
)

// RunOptions are the inputs of "cmrun run".
type RunOptions struct {
	CreateOptions
	Detach bool // return once started instead of waiting for the exit
	Keep   bool // leave the stopped container for "delete" (runc's --keep)
}

// Run creates and starts a container and, unless detached, waits for it,
// forwarding signals, and removes it. It returns the container's exit
// code: the program's own, or 128+N when signal N killed it.
func Run(o RunOptions) (int, error) {
	t := o.Trace
	// The signals that would end or stop cmrun (stopSignals) are caught
	// before anything exists: Create waits for them, so such a signal
	// either ends cmrun before there is a container or is forwarded to it.
	// The Go runtime enables signals one at a time, each a round trip to
	// a thread of its own, and in a short run those round trips competed
	// with the container's start for the CPU; so the others, which do not
	// end cmrun and have no program to go to before start, are caught
	// once the container runs (catchForwarded). Until caught, the Go
	// runtime drops them.
	sigs := make(chan os.Signal, 64)
	stopCaught := make(chan struct{})
	var othersCaught chan struct{} // once catchForwarded runs
	if o.Detach {
		close(stopCaught)
	} else {
		go func() {
			signal.Notify(sigs, stopSignals...)
			close(stopCaught)
		}()
		defer func() {
			<-stopCaught // Stop must not run before Notify
			if othersCaught != nil {
				<-othersCaught
			}
			signal.Stop(sigs)
		}()
	}
	o.stopSignalsCaught = stopCaught
	b, err := o.loadBundle()
	if err != nil {
		return 0, err
	}
	o.bundle = b
	var tty *ttyProxy
	if !o.Detach && b.Spec.Process.Terminal && o.ConsoleSocket == "" {
		if tty, err = newTTYProxy(); err != nil {
			return 0, err
		}
		defer tty.Close()
		o.consoleFile = tty.remote
	}
	c, err := Create(o.CreateOptions)
	if err != nil {
		return 0, err
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			c.delete(true)
			return 0, err
		}
	}
	// The container Create returned is what its state file says: start
	// and delete need not read it back.
	done := t.Step("cmrun", "start (release the init through the exec fifo)")
	err = c.start()
	done()
	if err != nil {
		c.delete(true)
		return 0, err
	}
	if o.Detach {
		return 0, nil
	}
	exited := make(chan struct{})
	othersCaught = make(chan struct{})
	go catchForwarded(sigs, exited, othersCaught, o.debug)
	done = t.Step("cmrun", "wait for the container to exit")
	code, err := waitForwarding(c.Pid, sigs, tty)
	close(exited)
	done()
	if tty != nil {
		tty.drain()
	}
	if o.Keep {
		return code, err
	}
	done = t.Step("cmrun", "delete (cgroup, state)")
	if derr := c.delete(true); derr != nil && err == nil {
		err = derr
	}
	done()
	return code, err
}

// waitForwarding waits for a process cmrun spawned (our child thanks to
// CLONE_PARENT) and passes on every signal cmrun receives meanwhile.
func waitForwarding(pid int, sigs chan os.Signal, tty *ttyProxy) (int, error) {
	type result struct {
		ws  unix.WaitStatus
		err error
	}
	exited := make(chan result, 1)
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			exited <- result{ws, err}
			return
		}
	}()
	for {
		select {
		case r := <-exited:
			if r.err != nil {
				return 0, fmt.Errorf("wait for process %d: %w", pid, r.err)
			}
			return exitCode(r.ws), nil
		case s := <-sigs:
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

// catchForwarded catches otherSignals, one at a time, while the container
// runs. It stops early once exited closes: a container that has already
// exited has nothing to forward them to. It closes caught when it is done,
// and says on debug when it caught them all; a signal that comes before is
// dropped.
func catchForwarded(sigs chan<- os.Signal, exited <-chan struct{}, caught chan<- struct{}, debug func(string)) {
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

// exitCode follows the shell's convention for a process killed by a signal.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// copyAndClose is a goroutine body for one direction of the tty proxy.
func copyAndClose(dst io.Writer, src io.Reader, done chan<- struct{}) {
	io.Copy(dst, src)
	if done != nil {
		close(done)
	}
}
