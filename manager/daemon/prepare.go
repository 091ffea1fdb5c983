package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"cm/manager"
)

// This file holds the executor's half of create: launching a container's
// shim, with retries while resources are short, and what happens to a
// container whose shim never spoke.

// prepare is the executor's part of create: launch the shim, holding the
// container's shim lock for it. The shim reports READY by itself; a
// failure here is reported the way a shim would, as a transition to DEAD.
// reloaded is set for a container reloaded in CREATING whose shim is gone:
// what a shim that died half-way through may have left is removed first.
func (d *Daemon) prepare(ctx context.Context, e *entry, reloaded bool) {
	d.prepareAttempt(ctx, e, reloaded, 0)
}

// prepareAttempts bounds the launches of one container that fail for lack
// of resources (descriptors, processes, space): retried after 0.1, 0.2,
// 0.4 s and so on, about 25 s in all, then the container fails.
const prepareAttempts = 8

// exhausted tells a failure for lack of resources, which passes, from one
// that a retry would meet again.
func exhausted(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOSPC, syscall.EAGAIN, syscall.ENOMEM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

func (d *Daemon) prepareAttempt(ctx context.Context, e *entry, reloaded bool, attempt int) {
	if s := e.Snap(); s.State != manager.Creating || s.Deleting {
		return
	}
	if ctx.Err() != nil {
		return // shutting down: it stays CREATING on disk and is prepared at the next start
	}
	lock, err := lockShim(d.store.ContainerDir(e.ID))
	if errors.Is(err, errShimAlive) {
		e.Expect(time.Now().Add(d.cfg.RestartGrace), true) // it registers, or it is LOST
		return
	}
	if err == nil {
		defer lock.Close() // the shim has its own descriptor of it
		// Create wrote the bundle. It is written again only for limits
		// updated since (a restart brings them), or when a daemon that
		// wrote bundles later left none.
		limits := e.Snap().Limits
		if _, serr := os.Stat(filepath.Join(d.bundleDir(e.ID), "config.json")); serr != nil || limits != nil {
			err = writeBundle(d.bundleDir(e.ID), e.ID, e.Name, withLimits(e.Spec, limits))
		}
	}
	if err == nil && reloaded {
		err = d.reclaim(ctx, e)
	}
	if err == nil {
		// The bundle already names the namespace file; it is made here.
		err = d.setupNetwork(ctx, e)
	}
	if err == nil {
		err = d.cfg.Launcher.Launch(ctx, ShimConfig{
			ID: e.ID, Bundle: d.bundleDir(e.ID), StateDir: d.store.ContainerDir(e.ID),
			ManagerSocket: d.cfg.ShimSocket, Init: e.Spec.Init, Token: d.ShimToken(e.ID), Lock: lock,
		})
	}
	if err != nil {
		if ctx.Err() != nil && d.draining.Load() {
			// Shutting down: a shim that was launched holds the lock and
			// registers with the next daemon; if none was, that daemon
			// launches one.
			return
		}
		if ctx.Err() != nil && lock != nil {
			// The launch took too long, but the shim may be alive and
			// register later: failing the container now would make its
			// registration an illegal DEAD → READY, refused for ever. If
			// it holds its lock, it gets the TTL to speak, then is LOST.
			lock.Close()
			if d.shimAlive(e) {
				d.log.Warn("shim slow to get ready; waiting for it to register", "id", e.ID, "err", err)
				e.Expect(time.Now().Add(d.expectTTL()), false)
				return
			}
		}
		if attempt+1 < prepareAttempts && exhausted(err) {
			// It stays CREATING, on disk: launched again in a moment.
			d.log.Warn("launch failed for lack of resources; retrying", "id", e.ID, "attempt", attempt+1, "err", err)
			time.AfterFunc(100*time.Millisecond<<attempt, func() {
				d.exec.Submit(d.requests, func(ctx context.Context) { d.prepareAttempt(ctx, e, reloaded, attempt+1) })
			})
			return
		}
		d.fail(e, err)
		return
	}
	if _, ok := e.Deadline(); !ok {
		e.Expect(time.Now().Add(d.expectTTL()), false)
	}
}

// maxRelaunches bounds how often one silent CREATING container is launched
// again by relaunchSilent before it is let go LOST.
const maxRelaunches = 3

// relaunchSilent launches again a container still CREATING whose shim did
// not speak in time and holds no shim lock: no shim of it exists (a shim
// forked for another container may have held a copy of its lock's
// descriptor when a restarted daemon looked, or its shim died before it
// registered), and its program never ran. It reports whether it did so,
// instead of the container becoming LOST.
func (d *Daemon) relaunchSilent(e *entry) bool {
	if s := e.Snap(); s.State != manager.Creating || s.Deleting || d.shimAlive(e) {
		return false
	}
	d.relaunchMu.Lock()
	if d.relaunches == nil {
		d.relaunches = map[string]int{}
	}
	d.relaunches[e.ID]++
	n := d.relaunches[e.ID]
	d.relaunchMu.Unlock()
	if n > maxRelaunches {
		return false
	}
	d.log.Warn("no shim of a container being created: launching it again", "id", e.ID, "time", n)
	e.Expect(time.Now().Add(d.expectTTL()), false)
	// Not from the watchdog's goroutine: a full queue would stop it. If
	// it is not queued, the next look finds it silent again.
	go d.exec.Submit(d.requests, func(ctx context.Context) { d.prepare(ctx, e, true) })
	return true
}

// shimAlive reports whether a shim of the container holds its shim lock
// (or may: the lock cannot be checked).
func (d *Daemon) shimAlive(e *entry) bool {
	lock, err := lockShim(d.store.ContainerDir(e.ID))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	lock.Close()
	return false
}

// fail records that the executor gave up on a container being created.
// If that cannot be recorded (the disk is full), it keeps trying until it
// can, or the container is no longer CREATING, or the daemon stops: the
// container must not stay CREATING for good with nobody working on it.
func (d *Daemon) fail(e *entry, cause error) {
	d.log.Warn("container failed", "id", e.ID, "err", cause)
	record := func() error {
		_, err := d.change(e, manager.Executor, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
			if cur.State != manager.Creating {
				return cur.State, cur.Facts, nil
			}
			f := *cur.Facts
			f.Error = cause.Error()
			return manager.Dead, &f, nil
		})
		return err
	}
	if err := record(); err == nil || !errors.Is(err, ErrNotRecorded) {
		return
	}
	d.log.Warn("cannot record failure; retrying", "id", e.ID)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-d.requests.Done():
				return
			case <-tick.C:
			}
			if err := record(); err == nil || !errors.Is(err, ErrNotRecorded) {
				return
			}
		}
	}()
}
