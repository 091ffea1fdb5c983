package daemon

import (
	"errors"
	"os"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// shims reaps the shims this daemon launched. ExecLauncher starts each
// shim as the daemon's child, to spare it a second start; a child stays
// a zombie until its parent waits for it. os.Process.Wait would block an
// OS thread per container for the shim's whole life, so instead one
// goroutine, woken by SIGCHLD, polls each launched shim by pid with
// WNOHANG. By pid, never wait4(-1): that would take the exit status of
// any other child (a shim still being launched) from whoever waits for it.
// After a daemon restart the shims are no longer its children: the
// system's reaper has them.
var shims shimReaper

type shimReaper struct {
	start sync.Once
	mu    sync.Mutex
	pids  map[int]bool
}

// add starts watching pid, a child that will not be waited for otherwise.
func (r *shimReaper) add(pid int) {
	if pid <= 0 {
		return // wait4 would take it as "any child"
	}
	r.start.Do(func() {
		sigchld := make(chan os.Signal, 1)
		signal.Notify(sigchld, unix.SIGCHLD)
		go func() {
			for range sigchld {
				r.reap()
			}
		}()
	})
	r.mu.Lock()
	if r.pids == nil {
		r.pids = map[int]bool{}
	}
	r.pids[pid] = true
	r.mu.Unlock()
	r.reap() // it may have exited before it was added: that SIGCHLD is gone
}

// reap collects every watched child that has exited.
func (r *shimReaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid := range r.pids {
		var ws unix.WaitStatus
		n, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if n == pid || errors.Is(err, unix.ECHILD) {
			delete(r.pids, pid)
		}
	}
}

// watched counts the children not reaped yet.
func (r *shimReaper) watched() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pids)
}
