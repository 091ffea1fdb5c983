package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"cm/manager"
)

// This file is the restart policy: a container that died is relaunched
// after a back-off by a new shim, as visible transitions
// (DEAD → CREATING → READY → RUNNING) made by the restart actor, the
// shim, and the restart actor's start. Everything it needs is in the
// record (the policy in the spec; the count, the back-off and the time of
// the exit in the facts), so pending restarts survive the daemon's
// restart, kill -9 included.

// policy is the container's restart policy at s: its create request's, or
// the one an update set. Both were checked to parse.
func policy(e *entry, s *manager.Snapshot) manager.RestartPolicy {
	name := e.Spec.Restart
	if s.RestartPolicy != "" {
		name = s.RestartPolicy
	}
	p, err := manager.ParseRestartPolicy(name)
	if err != nil {
		return manager.RestartPolicy{Name: manager.RestartNo}
	}
	return p
}

// restartBackoff is how many quick restarts in a row precede the next one:
// a container that ran for BackoffReset starts the back-off over.
func restartBackoff(s *manager.Snapshot) int {
	if !s.StartedAt.IsZero() && s.Changed.Sub(s.StartedAt) >= manager.BackoffReset {
		return 0
	}
	return s.Backoff
}

// wantsRestart reports whether the DEAD container at s is to be restarted.
// A container the manager gave up on before its program ran (Error) is
// not: the same launch would fail again.
func wantsRestart(e *entry, s *manager.Snapshot) bool {
	return s.State == manager.Dead && !s.Deleting && s.Error == "" &&
		policy(e, s).Restarts(s.ExitCode, s.RestartCount, s.UserStopped)
}

// scheduleRestart queues the restart of a DEAD container at its exit
// time plus the back-off, if its policy says so. The restart happens only
// if the container is still in that same death then (Changed is the time
// of the exit), so scheduling twice restarts once.
func (d *Daemon) scheduleRestart(e *entry, s *manager.Snapshot) {
	if !wantsRestart(e, s) {
		return
	}
	died := s.Changed
	delay := manager.Backoff(restartBackoff(s)) - time.Since(died)
	d.log.Info("restart scheduled", "id", e.ID, "policy", policy(e, s).String(), "in", max(delay, 0).Round(time.Millisecond), "restarts", s.RestartCount)
	time.AfterFunc(max(delay, 0), func() {
		err := d.exec.Submit(d.requests, func(ctx context.Context) { d.restart(ctx, e, died) })
		if err != nil {
			d.log.Warn("restart not queued; it is scheduled again at the next daemon start", "id", e.ID, "err", err)
		}
	})
}

// restart relaunches the container that died at `died`: the old shim
// deletes the old container, the record moves to CREATING with the count
// raised, and prepare launches a new shim, which reports READY; then
// startWhenReady starts it.
func (d *Daemon) restart(ctx context.Context, e *entry, died time.Time) {
	s := e.Snap()
	if !s.Changed.Equal(died) || !wantsRestart(e, s) || d.table.GetID(e.ID) != e {
		return // stopped by a user, removed, or restarted already
	}
	done := make(chan struct{})
	if _, busy := d.restarting.LoadOrStore(e.ID, done); busy {
		return
	}
	defer func() {
		d.restarting.Delete(e.ID)
		close(done)
	}()
	if err := d.dropOldShim(ctx, e, s); err != nil {
		d.log.Warn("restart: the old container stays; it is tried again at the next daemon start", "id", e.ID, "err", err)
		return
	}
	// Until the new bundle is written, a daemon restarted meanwhile must
	// prepare the container again rather than wait for a shim (see reload).
	if err := os.Remove(filepath.Join(d.bundleDir(e.ID), "config.json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		d.log.Warn("restart: remove old config", "id", e.ID, "err", err)
		return
	}
	_, err := d.change(e, manager.Restarter, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if !cur.Changed.Equal(died) || !wantsRestart(e, cur) {
			return 0, nil, errRestartCancelled
		}
		f := *cur.Facts
		f.Backoff = restartBackoff(cur) + 1
		f.RestartCount++
		f.Restarting = true
		f.Pid, f.ShimPid, f.Control, f.ReportSeq = 0, 0, "", 0
		f.ExitCode, f.Signal, f.OOMKilled, f.Error = 0, 0, false, ""
		f.StopDeadline, f.StartedAt = time.Time{}, time.Time{}
		return manager.Creating, &f, nil
	})
	if err != nil {
		if !errors.Is(err, errRestartCancelled) {
			d.log.Warn("restart", "id", e.ID, "err", err)
		}
		return
	}
	e.Expect(time.Now().Add(d.expectTTL()), false)
	d.prepare(ctx, e, false) // the old shim is gone (waited for above), nothing to reclaim
	go d.startWhenReady(e)
}

var errRestartCancelled = errors.New("restart cancelled")

// afterRestart waits for a relaunch of e under way to finish, so rm sees
// the new shim launched (or the restart given up), never a bundle being
// written into a directory it removes. It returns the snapshot rm must
// act on, or nil when ctx ended first.
func (d *Daemon) afterRestart(ctx context.Context, e *entry, s *manager.Snapshot) *manager.Snapshot {
	v, ok := d.restarting.Load(e.ID)
	if !ok {
		return s
	}
	select {
	case <-v.(chan struct{}):
	case <-ctx.Done():
		return nil
	}
	now := *e.Snap()
	return &now
}

// logKeeper is a shim client whose delete can leave the container's log,
// so `cmctl logs` shows every run of a restarted container.
type logKeeper interface {
	DeleteKeepLogs(ctx context.Context) error
}

// waitShimGone waits, until ctx ends, for the shim process pid to exit.
// A shim in this very process (the tests' fake) is gone once its control
// socket is.
func waitShimGone(ctx context.Context, pid int, control string) {
	if pid > 0 && pid != os.Getpid() {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			return // already gone
		}
		defer unix.Close(fd)
		for ctx.Err() == nil {
			// A pidfd is readable once its process has exited.
			n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 100)
			if n > 0 || err != nil && !errors.Is(err, unix.EINTR) {
				return
			}
		}
		return
	}
	for ctx.Err() == nil {
		if _, err := os.Lstat(control); errors.Is(err, os.ErrNotExist) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dropOldShim has the dead container's shim delete it and exit, or, with
// the shim gone, reclaims what the runtime still holds, so the new shim
// can create a container of the same id.
func (d *Daemon) dropOldShim(ctx context.Context, e *entry, s *manager.Snapshot) error {
	if s.Control != "" {
		err := d.shimCall(ctx, e, s.Control, "delete", func(ctx context.Context, c ShimClient) error {
			if k, ok := c.(logKeeper); ok {
				return k.DeleteKeepLogs(ctx)
			}
			return c.Delete(ctx)
		})
		if err == nil {
			// It removes its files (socket, status, log) on its way out:
			// the new shim's must not be among them.
			waitShimGone(ctx, s.ShimPid, s.Control)
			return nil
		}
		d.log.Info("restart: old shim delete", "id", e.ID, "err", err)
	}
	return d.reclaim(ctx, e)
}

// startWhenReady starts a relaunched container once its shim reports
// READY. It is the restart actor's start: a client's start would find it
// READY too, and either start is fine.
func (d *Daemon) startWhenReady(e *entry) {
	s, err := d.waitFor(d.requests, e, func(s *manager.Snapshot) bool {
		return s.State != manager.Creating || !s.Restarting
	})
	if err != nil || s.State != manager.Ready || !s.Restarting {
		return
	}
	err = d.exec.Do(d.requests, func(ctx context.Context) error {
		return d.shimCall(ctx, e, s.Control, "start", func(ctx context.Context, c ShimClient) error { return c.Start(ctx) })
	})
	if err != nil {
		d.log.Warn("restart: start", "id", e.ID, "err", err)
	}
}

// resumeRestarts picks up, after a daemon start, the restarts that were
// pending (DEAD, in back-off) or half done (relaunched, not yet started).
func (d *Daemon) resumeRestarts() {
	for _, e := range d.table.List() {
		switch s := e.Snap(); {
		case s.State == manager.Dead:
			d.scheduleRestart(e, s)
		case s.Restarting && (s.State == manager.Creating || s.State == manager.Ready):
			go d.startWhenReady(e)
		}
	}
}

// noteArrival keeps the restart bookkeeping of a shim's report: when the
// program began to run (for the back-off's reset), and that a relaunch
// is done once it runs.
func noteArrival(cur *manager.Snapshot, f *manager.Facts, to manager.State) {
	if to == manager.Running && cur.State != manager.Running && (f.StartedAt.IsZero() || cur.State == manager.Ready) {
		f.StartedAt = time.Now()
	}
	if to == manager.Running {
		f.Restarting = false
	}
}

// stopsForGood reports whether a client's signal means the user wants the
// program to end, which no restart policy may undo (docker's "manually
// stopped").
func stopsForGood(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT:
		return true
	}
	return false
}

// markUserStopped records, before the signal goes out, that a client's
// kill ends the program for good, so the exit that follows is not
// restarted. Containers without a restart policy need no such record.
func (d *Daemon) markUserStopped(e *entry, sig syscall.Signal) (*manager.Snapshot, error) {
	if !stopsForGood(sig) || policy(e, e.Snap()).Name == manager.RestartNo {
		return e.Snap(), nil
	}
	return d.change(e, manager.Client, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if err := manager.CheckOp(e.ID, manager.OpKill, cur.State); err != nil {
			return 0, nil, err
		}
		if cur.UserStopped {
			return cur.State, cur.Facts, nil
		}
		f := *cur.Facts
		f.UserStopped = true
		return cur.State, &f, nil
	})
}
