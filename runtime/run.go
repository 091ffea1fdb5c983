package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

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
	// Catch signals before the container exists, so none is lost between
	// create and wait; they are forwarded to the container. Catching all
	// of them costs 0.6-1.3 ms (the Go runtime enables them one at a
	// time through a thread of its own), so it runs while the bundle is
	// loaded and the seccomp filter found; Create waits for it before it
	// makes anything.
	sigs := make(chan os.Signal, 64)
	caught := make(chan struct{})
	if o.Detach {
		close(caught)
	} else {
		go func() {
			signal.Notify(sigs, forwardable...)
			close(caught)
		}()
		defer func() {
			<-caught // Stop must not run before Notify
			signal.Stop(sigs)
		}()
	}
	o.signalsCaught = caught
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
	done = t.Step("cmrun", "wait for the container to exit")
	code, err := waitForwarding(c.Pid, sigs, tty)
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

// forwardable are the signals cmrun catches to pass on to the container
// (SIGWINCH resizes its terminal instead, SIGPIPE is dropped). The Go
// runtime enables each signal with a round trip to a thread of its own,
// so the ones never passed on are left out: SIGCHLD (about cmrun's own
// children), SIGURG (the Go runtime's preemption signal), SIGKILL and
// SIGSTOP (uncatchable), and glibc's internal 32 and 33 (Go leaves those
// to glibc anyway).
var forwardable = func() []os.Signal {
	var sigs []os.Signal
	for s := unix.Signal(1); s <= 64; s++ {
		switch s {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGCHLD, unix.SIGURG, 32, 33:
			continue
		}
		sigs = append(sigs, s)
	}
	return sigs
}()

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
