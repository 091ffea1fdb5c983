package manager

import (
	"sync"
	"sync/atomic"
	"time"
)

// Entry is one container in the table. ID, Name, Created and Spec never
// change; the status is an atomic pointer to an immutable Snapshot, swapped
// by compare-and-swap. S is whatever the daemon keeps as the container's
// spec (its create request).
type Entry[S any] struct {
	ID      string
	Name    string
	Created time.Time
	Spec    S

	snap atomic.Pointer[Snapshot]

	// The watchdog's bookkeeping: when the shim must next be heard from
	// (unix nanoseconds; 0 while no shim is expected), and whether it has
	// spoken since the daemon reloaded this container from disk.
	deadline    atomic.Int64
	unconfirmed atomic.Bool
	told        atomic.Int64 // the heartbeat interval the shim was last given (nanoseconds; 0: none yet)

	// Commit order: the last version recorded (on disk, as events).
	commitMu   sync.Mutex
	commitCond sync.Cond
	committed  uint64
}

// NewEntry makes an entry whose current (and already recorded) status is first.
func NewEntry[S any](id, name string, created time.Time, spec S, first Snapshot) *Entry[S] {
	if first.Facts == nil {
		first.Facts = &Facts{}
	}
	e := &Entry[S]{ID: id, Name: name, Created: created, Spec: spec, committed: first.Version}
	e.commitCond.L = &e.commitMu
	e.snap.Store(&first)
	return e
}

// Snap returns the current snapshot: one atomic load, never blocks.
func (e *Entry[S]) Snap() *Snapshot { return e.snap.Load() }

// Change computes the next state and facts from the current snapshot. It
// must not modify cur: return cur.Facts to keep the facts, or a changed copy.
// It may run more than once when another change wins the race.
type Change func(cur *Snapshot) (State, *Facts, error)

// Update moves the entry to the state and facts change makes of the current
// snapshot, checking the transition against the table for actor by. It
// retries when another change got there first, so it never blocks. When
// nothing changes, before and after are the same snapshot.
//
// Every successful change must then be passed to Commit, or later commits
// of this entry wait forever.
func (e *Entry[S]) Update(by Actor, change Change) (before, after *Snapshot, err error) {
	for {
		cur := e.snap.Load()
		next, err := e.next(cur, by, change)
		if err != nil || next == cur {
			return cur, cur, err
		}
		if e.snap.CompareAndSwap(cur, next) {
			return cur, next, nil
		}
	}
}

// next is the snapshot change makes of cur, checked against the
// transition table; cur itself when nothing changes.
func (e *Entry[S]) next(cur *Snapshot, by Actor, change Change) (*Snapshot, error) {
	to, facts, err := change(cur)
	if err != nil {
		return nil, err
	}
	if facts != cur.Facts && *facts == *cur.Facts {
		facts = cur.Facts
	}
	if to == cur.State && facts == cur.Facts {
		return cur, nil
	}
	if to != cur.State {
		if err := CheckTransition(e.ID, cur.State, to, by); err != nil {
			return nil, err
		}
	}
	return &Snapshot{State: to, Version: cur.Version + 1, Facts: facts}, nil
}

// Apply is Update for changes that must be all or nothing: it computes the
// next snapshot under the entry's commit lock, has persist write it, and
// only if that succeeds makes it current and calls publish, still in
// version order. If persist fails, the entry is unchanged and readers
// never saw the change. Readers still never block (Snap is one atomic
// load); changes of one container wait for each other, as their commits
// did anyway. An entry changed by Apply must not be changed by Update.
func (e *Entry[S]) Apply(by Actor, change Change, persist func(before, after *Snapshot) error, publish func(before, after *Snapshot)) (before, after *Snapshot, err error) {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	cur := e.snap.Load()
	next, err := e.next(cur, by, change)
	if err != nil || next == cur {
		return cur, cur, err
	}
	if err := persist(cur, next); err != nil {
		return cur, cur, err
	}
	e.snap.Store(next)
	e.committed = next.Version
	publish(cur, next)
	e.commitCond.Broadcast()
	return cur, next, nil
}

// Transition changes only the state, keeping the facts.
func (e *Entry[S]) Transition(to State, by Actor) (before, after *Snapshot, err error) {
	return e.Update(by, func(cur *Snapshot) (State, *Facts, error) { return to, cur.Facts, nil })
}

// Commit passes the change before → after, made by Update, to record (which
// writes it to disk and publishes its event) once every earlier version of
// this entry has been recorded. The compare-and-swaps decide the order of
// changes without locks; Commit makes the disk and the event stream follow
// that order. Only records of the same container wait for each other.
// For an unchanged snapshot it just waits until that version is recorded.
func (e *Entry[S]) Commit(before, after *Snapshot, record func(before, after *Snapshot) error) error {
	if before == after {
		e.WaitCommitted(after.Version)
		return nil
	}
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	for e.committed+1 < after.Version {
		e.commitCond.Wait()
	}
	err := record(before, after)
	e.committed = after.Version
	e.commitCond.Broadcast()
	return err
}

// WaitCommitted returns once version v (or a later one) has been recorded.
func (e *Entry[S]) WaitCommitted(v uint64) {
	e.commitMu.Lock()
	defer e.commitMu.Unlock()
	for e.committed < v {
		e.commitCond.Wait()
	}
}

// Heard records that the shim spoke; the watchdog leaves the container
// alone until deadline.
func (e *Entry[S]) Heard(deadline time.Time) {
	e.deadline.Store(deadline.UnixNano())
	e.unconfirmed.Store(false)
}

// Expect starts watching a container whose shim has not spoken yet: one
// just launched, or (unconfirmed) one reloaded from disk after a restart.
func (e *Entry[S]) Expect(deadline time.Time, unconfirmed bool) {
	e.deadline.Store(deadline.UnixNano())
	e.unconfirmed.Store(unconfirmed)
}

// Deadline is when the shim must next be heard from; ok is false while no
// shim is expected.
func (e *Entry[S]) Deadline() (deadline time.Time, ok bool) {
	ns := e.deadline.Load()
	if ns == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// Tell records the heartbeat interval the shim is given now and returns
// the one it was given before (0 if none).
func (e *Entry[S]) Tell(interval time.Duration) (before time.Duration) {
	return time.Duration(e.told.Swap(int64(interval)))
}

// Told is the heartbeat interval the shim was last given; 0 if none.
func (e *Entry[S]) Told() time.Duration { return time.Duration(e.told.Load()) }

// Unconfirmed reports whether the container was reloaded from disk and its
// shim has not spoken since.
func (e *Entry[S]) Unconfirmed() bool { return e.unconfirmed.Load() }
