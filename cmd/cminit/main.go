// Command cminit is a tiny init for containers (cmshim --init): it runs
// as PID 1, starts the real program as its child, forwards every signal
// to it and reaps every zombie, then exits with the program's status.
//
// It is bind-mounted into the container's root filesystem, where no host
// library exists, so it must be static: it is pure Go and imports nothing
// that uses cgo (no net, no os/user), which makes the Go linker produce a
// static binary even with CGO_ENABLED=1.
//
// Usage: cminit [--] PROGRAM [ARG...]
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// sigs catches every signal, from the first moment Go code runs: before
// the child exists, so no signal is lost, and before main, because the Go
// runtime handles SIGTERM (and SIGINT, SIGHUP...) itself until Notify is
// called, by exiting with status 2 — as PID 1 that would take the whole
// container down with SIGKILL instead of forwarding the stop signal. A
// signal that comes during the exec itself, before the runtime installs
// its handlers, is still dropped: the kernel ignores PID 1's unhandled
// signals. A handler is also what makes PID 1 receive signals at all.
var sigs = notifyAll()

func notifyAll() chan os.Signal {
	c := make(chan os.Signal, 64)
	signal.Notify(c)
	return c
}

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: cminit [--] PROGRAM [ARG...]")
		os.Exit(2)
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, "cminit:", err)
		os.Exit(127)
	}
	child, err := os.StartProcess(path, args, &os.ProcAttr{
		Env:   os.Environ(),
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cminit:", err)
		os.Exit(126)
	}
	for sig := range sigs {
		switch sig {
		case syscall.SIGCHLD:
			if code, done := reap(child.Pid); done {
				os.Exit(code)
			}
		case syscall.SIGURG:
			// The Go runtime's own preemption signal, not meant for the child.
		default:
			syscall.Kill(child.Pid, sig.(syscall.Signal))
		}
	}
}

// reap collects every exited child, orphans included (PID 1 inherits
// them). It reports the program's exit code once the program is gone,
// with 128+N for a program killed by signal N.
func reap(program int) (code int, done bool) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return code, done
		}
		if pid == program {
			code, done = ws.ExitStatus(), true
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
}
