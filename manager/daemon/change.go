package daemon

import (
	"fmt"
	"time"

	"cm/manager"
	"cm/manager/api"
)

// change applies one change to a container and returns once it is on disk
// and published: the compare-and-swap decides (Entry.Update), then the
// commit records, in version order (Entry.Commit). A container being
// deleted takes no more changes: its shim hears "unknown container".
func (d *Daemon) change(e *entry, by manager.Actor, f manager.Change) (*manager.Snapshot, error) {
	return d.apply(e, by, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if cur.Deleting {
			return 0, nil, fmt.Errorf("container %s: %w", e.ID, ErrUnknownContainer)
		}
		return f(cur)
	})
}

// apply is change without the deletion check, for rm itself.
func (d *Daemon) apply(e *entry, by manager.Actor, f manager.Change) (*manager.Snapshot, error) {
	before, after, err := e.Update(by, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		to, facts, err := f(cur)
		if err == nil && to != cur.State {
			stamped := *facts
			stamped.Changed = time.Now()
			facts = &stamped
		}
		return to, facts, err
	})
	if err != nil {
		return before, err
	}
	// If the write fails, the request that made the change gets a 500 and
	// memory is ahead of the disk until the container's next change
	// rewrites its whole record.
	err = e.Commit(before, after, func(before, after *manager.Snapshot) error {
		return d.record(e, before, after, by)
	})
	return after, err
}

// record writes the container's new state and publishes its transition.
func (d *Daemon) record(e *entry, before, after *manager.Snapshot, by manager.Actor) error {
	data, err := encodeRecord(e, after)
	if err != nil {
		return err
	}
	save := d.store.Save
	if by == manager.Shim && (after.State == manager.Ready || after.State == manager.Running) {
		// A shim's report of its container getting ready or running
		// tells the client nothing that outlives a power loss (see
		// SaveOldOrNew); its exit (DEAD) is kept durably.
		save = d.store.SaveOldOrNew
	}
	if err := save(e.ID, data); err != nil {
		return fmt.Errorf("persist container %s: %w", e.ID, err)
	}
	if before.State != after.State {
		ev := api.Event{Type: api.EventTransition, ID: e.ID, Name: e.Name, From: before.State, To: after.State, By: by.String()}
		if after.State == manager.Dead {
			code := after.ExitCode
			ev.ExitCode, ev.Signal, ev.OOMKilled, ev.Reason = &code, after.Signal, after.OOMKilled, after.Error
		}
		d.bus.Publish(ev)
		if after.State == manager.Dead {
			d.scheduleRestart(e, after)
		}
	}
	return nil
}
