package cgroupfs

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// KillAll signals every process in the group.
//
// Signalling a list of pids races with fork: a child born after the list
// was read would miss the signal. So the group is frozen first (nothing
// runs, so nothing forks), signalled, then thawed; a frozen task only acts
// on its signal once thawed.
//
// For SIGKILL the kernel can do the whole job: cgroup v2's cgroup.kill
// (Linux 5.14) kills every task atomically, forks included. Without it,
// or for processes outside the v2 tree, the freeze-signal-thaw round is
// repeated until the group is empty.
func (g *group) KillAll(sig unix.Signal) error {
	if err := g.killAll(sig); err != nil {
		return fmt.Errorf("signal %v to cgroup %s: %w", sig, g.path, err)
	}
	return nil
}

func (g *group) killAll(sig unix.Signal) error {
	if sig == unix.SIGKILL {
		if dir, ok := g.unifiedDir(); ok && fileExists(dir, "cgroup.kill") {
			if err := writeFile(dir, "cgroup.kill", "1"); err != nil {
				return err
			}
		}
	}
	deadline := time.Now().Add(killTimeout)
	for round := 0; ; round++ {
		pids, err := g.Pids()
		if isNotExist(err) {
			return nil // no group, nothing to signal
		}
		if err != nil {
			return err
		}
		if len(pids) == 0 {
			return nil
		}
		if sig != unix.SIGKILL || round == 0 {
			if err := g.signalFrozen(sig); err != nil {
				return err
			}
			if sig != unix.SIGKILL {
				return nil // other signals: one delivery, no waiting
			}
		} else {
			// Later rounds only catch stragglers; freezing dying tasks
			// again gains nothing.
			if err := signalPids(pids, sig); err != nil {
				return err
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes left after %v: %w", len(pids), killTimeout, ErrTimeout)
		}
		time.Sleep(min(time.Duration(round+1)*time.Millisecond, 50*time.Millisecond))
	}
}

// signalFrozen freezes the group (when it has a freezer), signals every
// process and thaws it again. A group the user had paused stays paused,
// except after SIGKILL: frozen tasks cannot die until thawed.
func (g *group) signalFrozen(sig unix.Signal) error {
	_, _, noFreezer := g.freezer()
	if noFreezer != nil {
		pids, err := g.Pids()
		if err != nil {
			return err
		}
		return signalPids(pids, sig)
	}
	wasFrozen, err := g.Frozen()
	if err != nil {
		return err
	}
	// A freeze that times out still leaves the group no worse than no
	// freezer at all, so carry on and signal anyway.
	frozeErr := g.Freeze()
	pids, err := g.Pids()
	if err == nil {
		err = signalPids(pids, sig)
	}
	if !wasFrozen || sig == unix.SIGKILL {
		if terr := g.Thaw(); err == nil {
			err = terr
		}
	}
	if err != nil {
		return err
	}
	if frozeErr != nil && !errors.Is(frozeErr, ErrTimeout) {
		return frozeErr
	}
	return nil
}

// signalPids sends sig to each pid; one that already exited is fine.
func signalPids(pids []int, sig unix.Signal) error {
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("kill %d: %w", pid, err)
		}
	}
	return nil
}
