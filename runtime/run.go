package runtime

import (
	"io"

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
	// The signals that would end or stop cmrun are caught before anything
	// exists (Create waits for them), the others once the program runs:
	// see forwarder.
	var fwd *forwarder
	if !o.Detach {
		fwd = catchStopSignals()
		defer fwd.stop()
		o.stopSignalsCaught = fwd.stopCaught
	}
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
	code, err := fwd.wait(c.Pid, tty, o.debug)
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
