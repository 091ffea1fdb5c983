package daemon

import (
	"fmt"
	"sync"
	"time"

	"cm/manager"
	"cm/manager/api"
)

// change applies one change to a container, all or nothing: once it
// returns without error the change is on disk, in memory and published;
// with an error none of that happened (Entry.Apply). A container being
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
	stamp := func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		to, facts, err := f(cur)
		if err == nil && to != cur.State {
			stamped := *facts
			stamped.Changed = time.Now()
			facts = &stamped
		}
		return to, facts, err
	}
	persist := func(before, after *manager.Snapshot) error {
		if onlyDeleting(before, after) {
			return nil // not stored: the mark of an rm under way lives in memory only
		}
		if err := d.persist(e, after, by); err != nil {
			d.unrecorded.note(e.ID, err)
			d.log.Warn("change not recorded, so not made", "id", e.ID, "from", before.State, "to", after.State, "by", by, "err", err)
			return err
		}
		return nil
	}
	publish := func(before, after *manager.Snapshot) { d.publish(e, before, after, by) }
	before, after, err := e.Apply(by, stamp, persist, publish)
	if err != nil {
		return before, err
	}
	return after, nil
}

// onlyDeleting reports whether a change only sets or clears the deleting
// mark, which state.json does not hold: an rm on a full disk must be able
// to begin (and to be taken back), since removing frees space.
func onlyDeleting(before, after *manager.Snapshot) bool {
	if before.State != after.State {
		return false
	}
	b, a := *before.Facts, *after.Facts
	b.Deleting, a.Deleting = false, false
	return b == a
}

// persist writes the container's new state.
func (d *Daemon) persist(e *entry, after *manager.Snapshot, by manager.Actor) error {
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
		return fmt.Errorf("container %s: %w: %w", e.ID, ErrNotRecorded, err)
	}
	return nil
}

// publish announces the container's transition, if its state changed.
func (d *Daemon) publish(e *entry, before, after *manager.Snapshot, by manager.Actor) {
	d.metrics.transition(e, before, after)
	if before.State == after.State {
		return
	}
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

// unrecordedChanges tells waiters that a change of the container they wait
// for could not be recorded, so what they wait for may not come: they
// answer with that error instead of hanging.
type unrecordedChanges struct {
	mu   sync.Mutex
	gen  map[string]uint64 // per container id: failures so far
	last map[string]error
	wake chan struct{} // closed by the next failure
}

func (u *unrecordedChanges) note(id string, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gen == nil {
		u.gen, u.last = map[string]uint64{}, map[string]error{}
	}
	u.gen[id]++
	u.last[id] = err
	if u.wake != nil {
		close(u.wake)
	}
	u.wake = make(chan struct{})
}

// since returns the failure count of id and a channel closed by the next
// failure of any container.
func (u *unrecordedChanges) since(id string) (uint64, <-chan struct{}) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.wake == nil {
		u.wake = make(chan struct{})
	}
	return u.gen[id], u.wake
}

// after returns the last failure of id if there were more than n.
func (u *unrecordedChanges) after(id string, n uint64) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.gen[id] > n {
		return u.last[id]
	}
	return nil
}
