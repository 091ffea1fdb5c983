package shim

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"cm/runtime"
	"cm/shim/proto"
)

// reapLoop collects every child that exits: the container's init, and as
// a child subreaper every process orphaned in the container. Each SIGCHLD
// triggers a pass; signals merge, so a pass reaps until nothing is left.
func (s *Shim) reapLoop(sigchld <-chan os.Signal) {
	for range sigchld {
		s.ops.Lock()
		s.reap()
		s.ops.Unlock()
	}
}

// reap waits for every exited child without blocking. The caller holds ops.
func (s *Shim) reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || pid <= 0 {
			return // ECHILD: no children; 0: none has exited yet
		}
		if done, ok := s.execs[pid]; ok {
			delete(s.execs, pid)
			done <- ws
		}
		if pid == s.initPid {
			s.waitForOutput()
			s.setState(proto.StateDead, s.exitStatus(ws))
		}
	}
}

// outputGrace bounds how long DEAD waits for the container's output: a
// process that outlived the init (no PID namespace) may hold the pipe.
const outputGrace = time.Second

// waitForOutput lets the log copier reach the end of the container's
// output, so a client that saw DEAD and reads the log gets all of it.
func (s *Shim) waitForOutput() {
	select {
	case <-s.logDone:
	case <-time.After(outputGrace):
	}
}

// exitStatus turns a wait status into the protocol's form. The cgroup
// still exists (only delete removes it), so its OOM count is still there.
func (s *Shim) exitStatus(ws unix.WaitStatus) proto.ExitStatus {
	e := proto.ExitStatus{ExitCode: ws.ExitStatus()}
	if ws.Signaled() {
		e.Signal = int(ws.Signal())
		e.ExitCode = 128 + e.Signal
	}
	if c, err := runtime.Load(s.opts.RuntimeRoot, s.opts.ID); err == nil {
		e.OOMKilled = c.OOMKilled()
	}
	return e
}
