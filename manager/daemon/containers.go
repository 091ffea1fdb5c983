package daemon

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"syscall"
	"time"

	"cm/manager"
	"cm/manager/api"
	"cm/runtime/signals"
)

// This file holds what the client API asks for. Each operation checks the
// state machine, records its intent durably, and leaves the slow part to
// the executor.

func (d *Daemon) lookup(ref string) (*entry, error) {
	e := d.table.Get(ref)
	if e == nil || e.Snap().Deleting {
		return nil, fmt.Errorf("container %q: %w", ref, ErrNotFound)
	}
	return e, nil
}

// create records a new container in CREATING and queues its preparation.
// It answers once the container is on disk.
// It returns the snapshot it recorded, CREATING: the executor may move the
// container on before the caller renders its answer.
func (d *Daemon) create(ctx context.Context, req api.CreateRequest) (*entry, *manager.Snapshot, error) {
	if err := validateCreate(&req); err != nil {
		return nil, nil, err
	}
	if len(req.Ports) > 0 {
		publishMu.Lock() // until the container is in the table
		defer publishMu.Unlock()
		if err := d.checkPorts(req); err != nil {
			return nil, nil, err
		}
	}
	now := time.Now()
	e := manager.NewEntry(newID(), req.Name, now, req, manager.Snapshot{State: manager.Creating, Facts: &manager.Facts{Changed: now}})
	if err := d.table.Add(e); err != nil {
		return nil, nil, err
	}
	created := e.Snap()
	data, err := encodeRecord(e, created)
	if err == nil {
		// The bundle first: a record on disk always has one, and a
		// create that cannot write it is refused, not acknowledged.
		err = d.store.CreateWith(e.ID, data, func(dir string) error {
			return writeBundle(filepath.Join(dir, "bundle"), e.ID, e.Name, e.Spec)
		})
	}
	if err != nil {
		d.table.Remove(e)
		d.forgetListEntry(e)
		return nil, nil, fmt.Errorf("record new container: %w", err)
	}
	d.bus.Publish(api.Event{Type: api.EventCreated, ID: e.ID, Name: e.Name, To: manager.Creating, By: manager.Client.String()})
	if err := d.exec.Submit(ctx, func(ctx context.Context) { d.prepare(ctx, e, false) }); err != nil && !d.draining.Load() {
		// It exists and says why it will never run. (At shutdown it stays
		// CREATING: the next daemon prepares it.)
		d.fail(e, fmt.Errorf("not prepared: %w", err))
	}
	return e, created, nil
}

// shimCall runs one call on the shim's control socket, bounded in time.
func (d *Daemon) shimCall(ctx context.Context, e *entry, control, op string, call func(context.Context, ShimClient) error) error {
	if control == "" {
		return fmt.Errorf("container %s: %w", e.ID, ErrNoShim)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.ShimTimeout)
	defer cancel()
	if err := call(ctx, d.cfg.DialShim(control)); err != nil {
		return &ShimError{ID: e.ID, Op: op, Err: err}
	}
	return nil
}

// start asks the shim to start the program and answers once the shim has
// reported it RUNNING (or DEAD, if it died at once).
func (d *Daemon) start(ctx context.Context, e *entry) (*manager.Snapshot, error) {
	s := e.Snap()
	if err := manager.CheckOp(e.ID, manager.OpStart, s.State); err != nil {
		return nil, err
	}
	err := d.exec.Do(ctx, func(ctx context.Context) error {
		return d.shimCall(ctx, e, s.Control, "start", func(ctx context.Context, c ShimClient) error { return c.Start(ctx) })
	})
	if err != nil {
		return nil, err
	}
	return d.waitFor(ctx, e, func(s *manager.Snapshot) bool { return s.State != manager.Ready })
}

func parseSignal(field, name string) (syscall.Signal, error) {
	if name == "" {
		return 0, badField(field, "required: a name (TERM, SIGTERM) or a number")
	}
	sig, err := signals.Parse(name)
	if err != nil {
		return 0, badField(field, "%v", err)
	}
	return sig, nil
}

// stop moves a RUNNING container to STOPPING, durably, then has the
// executor send the stop signal and, after the grace period, SIGKILL to
// the whole cgroup. The shim reports DEAD with the real exit status.
func (d *Daemon) stop(ctx context.Context, e *entry, req api.StopRequest) (*manager.Snapshot, error) {
	grace := d.cfg.StopTimeout
	if req.Timeout != nil {
		t := *req.Timeout
		if t < 0 || math.IsNaN(t) || t > 365*24*3600 {
			return nil, badField("timeout", "must be between 0 and a year of seconds (got %v)", t)
		}
		grace = time.Duration(t * float64(time.Second))
	}
	sig := syscall.SIGTERM
	if req.Signal != "" {
		var err error
		if sig, err = parseSignal("signal", req.Signal); err != nil {
			return nil, err
		}
	}
	deadline := time.Now().Add(grace)
	s, err := d.change(e, manager.Client, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if err := manager.CheckOp(e.ID, manager.OpStop, cur.State); err != nil {
			return 0, nil, err
		}
		f := *cur.Facts
		f.StopDeadline = deadline
		f.UserStopped = true // no restart policy undoes a stop
		return manager.Stopping, &f, nil
	})
	if err != nil {
		return nil, err
	}
	err = d.exec.Submit(ctx, func(ctx context.Context) {
		err := d.shimCall(ctx, e, s.Control, "stop signal", func(ctx context.Context, c ShimClient) error { return c.Signal(ctx, sig) })
		if err != nil {
			d.log.Warn("stop", "id", e.ID, "err", err)
		}
	})
	if err != nil {
		d.log.Warn("stop signal not queued; SIGKILL follows at the deadline", "id", e.ID, "err", err)
	}
	d.killAfter(e, deadline)
	return s, nil
}

// killAfter SIGKILLs the whole cgroup at the deadline if the container is
// still STOPPING then.
func (d *Daemon) killAfter(e *entry, at time.Time) {
	time.AfterFunc(time.Until(at), func() {
		d.exec.Submit(context.Background(), func(ctx context.Context) {
			s := e.Snap()
			if s.State != manager.Stopping || s.Deleting {
				return // it exited in time, or is gone
			}
			err := d.shimCall(ctx, e, s.Control, "kill all", func(ctx context.Context, c ShimClient) error { return c.KillAll(ctx) })
			if err != nil {
				d.log.Warn("stop: kill all", "id", e.ID, "err", err)
			}
		})
	})
}

// kill sends one signal through the shim; what follows, the shim reports.
func (d *Daemon) kill(ctx context.Context, e *entry, req api.KillRequest) (*manager.Snapshot, error) {
	sig, err := parseSignal("signal", req.Signal)
	if err != nil {
		return nil, err
	}
	s := e.Snap()
	if err := manager.CheckOp(e.ID, manager.OpKill, s.State); err != nil {
		return nil, err
	}
	if s, err = d.markUserStopped(e, sig); err != nil {
		return nil, err
	}
	err = d.exec.Do(ctx, func(ctx context.Context) error {
		return d.shimCall(ctx, e, s.Control, "signal", func(ctx context.Context, c ShimClient) error { return c.Signal(ctx, sig) })
	})
	if err != nil {
		return nil, err
	}
	return e.Snap(), nil
}

// remove forgets a DEAD or LOST container (with force: any container,
// killed first). From the moment it is marked deleting, its shim hears
// "unknown container" and aborts; the executor tells the shim to delete,
// then the container leaves the table and the disk.
func (d *Daemon) remove(ctx context.Context, e *entry, force bool) (*manager.Snapshot, error) {
	s, err := d.apply(e, manager.Client, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if cur.Deleting {
			return 0, nil, fmt.Errorf("container %s: %w", e.ID, ErrNotFound)
		}
		if !force {
			if err := manager.CheckOp(e.ID, manager.OpDelete, cur.State); err != nil {
				return 0, nil, err
			}
		}
		f := *cur.Facts
		f.Deleting = true
		return cur.State, &f, nil
	})
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	err = d.exec.Submit(ctx, func(ctx context.Context) { done <- d.forget(ctx, e, s, force) })
	if err != nil {
		// Not queued, so nothing happened: the container stays.
		d.undelete(e)
		return nil, err
	}
	select {
	case err := <-done:
		return s, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// undelete takes back the mark of an rm that did not happen: the
// container stays, and its shim is heard again.
func (d *Daemon) undelete(e *entry) {
	d.apply(e, manager.Client, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		f := *cur.Facts
		f.Deleting = false
		return cur.State, &f, nil
	})
}

func (d *Daemon) forget(ctx context.Context, e *entry, s *manager.Snapshot, force bool) error {
	if s = d.afterRestart(ctx, e, s); s == nil {
		return ctx.Err()
	}
	deleted := false
	if s.Control != "" {
		if force && s.State != manager.Dead {
			err := d.shimCall(ctx, e, s.Control, "kill all", func(ctx context.Context, c ShimClient) error { return c.KillAll(ctx) })
			if err != nil {
				d.log.Warn("rm: kill all", "id", e.ID, "err", err)
			}
		}
		// A shim that is gone cannot answer; one that is alive but missed
		// this hears "unknown container" next time and aborts.
		err := d.shimCall(ctx, e, s.Control, "delete", func(ctx context.Context, c ShimClient) error { return c.Delete(ctx) })
		if err != nil {
			d.log.Info("rm: shim delete", "id", e.ID, "err", err)
		}
		deleted = err == nil
	}
	// Nobody deleted the container (a LOST one's shim is usually dead):
	// its processes would run on, unwatched, after the record is gone, so
	// until they are killed rm has not happened. Not while it is CREATING:
	// its shim may still be starting, and reclaiming would race its create;
	// that shim hears "unknown container" when it registers and removes
	// the container itself.
	if !deleted && s.State != manager.Creating {
		if err := d.reclaim(ctx, e); err != nil {
			d.undelete(e)
			return err
		}
		deleted = true
	}
	if deleted {
		d.removeMountpoints(e)
	}
	if err := d.teardownNetwork(ctx, e); err != nil {
		d.undelete(e)
		return err
	}
	// The disk first: if the record cannot be removed, the container stays,
	// rather than vanish now and come back after a restart.
	if err := d.store.Remove(e.ID); err != nil {
		d.undelete(e)
		return err
	}
	d.table.Remove(e)
	d.forgetListEntry(e)
	d.bus.Publish(api.Event{Type: api.EventDeleted, ID: e.ID, Name: e.Name, From: s.State, By: manager.Client.String()})
	return nil
}

// waitFor returns the container's first committed snapshot for which done
// is true. It wakes on every published event instead of polling. If a
// change of the container cannot be recorded meanwhile (the state
// directory is full), it returns that error: what it waits for may never
// be recorded, and the caller must not hang.
func (d *Daemon) waitFor(ctx context.Context, e *entry, done func(*manager.Snapshot) bool) (*manager.Snapshot, error) {
	failures, _ := d.unrecorded.since(e.ID)
	for {
		changed := d.bus.Changed()
		_, unrecorded := d.unrecorded.since(e.ID)
		if err := d.unrecorded.after(e.ID, failures); err != nil {
			return nil, err
		}
		s := e.Snap()
		if s.Deleting || d.table.GetID(e.ID) != e {
			return nil, fmt.Errorf("container %s was deleted: %w", e.ID, ErrNotFound)
		}
		if done(s) {
			e.WaitCommitted(s.Version) // answer only with what is on disk
			return s, nil
		}
		select {
		case <-changed:
		case <-unrecorded:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
