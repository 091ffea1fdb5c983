package shim

import (
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"cm/runtime"
	"cm/shim/proto"
)

// watchExit runs a reaping pass once pid has exited: a pidfd turns
// readable then, and the netpoller waits for that. Unlike SIGCHLD through
// os/signal, which keeps two threads for the life of the process, this
// blocks no thread. The caller holds ops, so pid cannot be reaped before
// its pidfd exists.
func (s *Shim) watchExit(pid int) error {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("open pidfd of process %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return fmt.Errorf("poll pidfd of process %d: %w", pid, err)
	}
	go func() {
		defer f.Close()
		// Asked, not assumed: a readiness that came before Read began
		// is forgotten by it, and would never come again.
		err := rc.Read(func(fd uintptr) bool { return exited(int(fd)) })
		if err != nil {
			log.Printf("wait for process %d: %v", pid, err)
		}
		s.ops.Lock()
		s.reap()
		s.ops.Unlock()
	}()
	return nil
}

// exited tells whether the process of a pidfd has exited (or the pidfd
// cannot tell: better a reaping pass too early than none).
func exited(pidfd int) bool {
	for {
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, 0)
		if !errors.Is(err, unix.EINTR) {
			return err != nil || n > 0
		}
	}
}

// sweepOrphans runs a reaping pass every orphanSweep until quit, for a
// container in the shim's PID namespace: its orphans are ours to reap (we
// are their child subreaper), and without SIGCHLD nothing else tells us
// they exited. In a PID namespace of its own, the container's init
// adopts them instead.
func (s *Shim) sweepOrphans() {
	t := time.NewTicker(orphanSweep)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.ops.Lock()
			s.reap()
			s.ops.Unlock()
		}
	}
}

// orphanSweep bounds how long an orphan's zombie stays.
const orphanSweep = 2 * time.Second

// samePIDNamespace tells whether pid is in this process's PID namespace.
func samePIDNamespace(pid int) bool {
	var ours, theirs unix.Stat_t
	if unix.Stat("/proc/self/ns/pid", &ours) != nil || unix.Stat(fmt.Sprintf("/proc/%d/ns/pid", pid), &theirs) != nil {
		return true // cannot tell: sweeping costs little
	}
	return ours.Ino == theirs.Ino && ours.Dev == theirs.Dev
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
