package cgroupfs

import (
	"fmt"
	"time"
)

// The two freezers:
//
//   - v1: the freezer controller's freezer.state takes FROZEN or THAWED and
//     reads FREEZING until every task has stopped. Writing FROZEN again
//     makes the kernel retry tasks it could not stop yet.
//   - v2: the core file cgroup.freeze takes 1 or 0, and cgroup.events
//     shows "frozen 1" once every task has stopped.
//
// A hybrid host uses the v1 freezer when it is mounted, else the v2 one.

// freezer says which freezer the group uses.
func (g *group) freezer() (dir string, v2 bool, err error) {
	if d, ok := g.dirOf("freezer"); ok && !d.h.v2 {
		return d.dir, false, nil
	}
	if dir, ok := g.unifiedDir(); ok {
		return dir, true, nil
	}
	return "", false, fmt.Errorf("freeze cgroup %s: freezer %w", g.path, ErrUnavailable)
}

func (g *group) Freeze() error {
	dir, v2, err := g.freezer()
	if err != nil {
		return err
	}
	if v2 {
		err = freezeV2(dir)
	} else {
		err = freezeV1(dir)
	}
	if err != nil {
		return fmt.Errorf("freeze cgroup %s: %w", g.path, err)
	}
	return nil
}

func (g *group) Thaw() error {
	dir, v2, err := g.freezer()
	if err != nil {
		return err
	}
	if v2 {
		err = writeFile(dir, "cgroup.freeze", "0")
	} else {
		err = writeFile(dir, "freezer.state", "THAWED")
	}
	if err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", g.path, err)
	}
	return nil
}

func (g *group) Frozen() (bool, error) {
	dir, v2, err := g.freezer()
	if err != nil {
		return false, err
	}
	if v2 {
		frozen, err := frozenV2(dir)
		if err != nil {
			return false, fmt.Errorf("read freezer state of cgroup %s: %w", g.path, err)
		}
		return frozen, nil
	}
	state, err := readFile(dir, "freezer.state")
	if err != nil {
		return false, fmt.Errorf("read freezer state of cgroup %s: %w", g.path, err)
	}
	return state == "FROZEN", nil
}

func freezeV1(dir string) error {
	if err := writeFile(dir, "freezer.state", "FROZEN"); err != nil {
		return err
	}
	lastWrite := time.Now()
	err := waitFor(freezeTimeout, func() (bool, error) {
		state, err := readFile(dir, "freezer.state")
		if err != nil || state == "FROZEN" {
			return state == "FROZEN", err
		}
		// Still FREEZING: some task was busy (e.g. in a vfork). Asking
		// again makes the kernel retry it.
		if time.Since(lastWrite) > 100*time.Millisecond {
			lastWrite = time.Now()
			return false, writeFile(dir, "freezer.state", "FROZEN")
		}
		return false, nil
	}, func() error {
		return fmt.Errorf("not frozen after %v: %w", freezeTimeout, ErrTimeout)
	})
	if err != nil {
		// Never leave a half-frozen group behind a failed Freeze.
		_ = writeFile(dir, "freezer.state", "THAWED")
	}
	return err
}

func freezeV2(dir string) error {
	if err := writeFile(dir, "cgroup.freeze", "1"); err != nil {
		return err
	}
	err := waitFor(freezeTimeout, func() (bool, error) {
		return frozenV2(dir)
	}, func() error {
		return fmt.Errorf("not frozen after %v: %w", freezeTimeout, ErrTimeout)
	})
	if err != nil {
		_ = writeFile(dir, "cgroup.freeze", "0")
	}
	return err
}

// frozenV2 reads "frozen 0|1" from cgroup.events.
func frozenV2(dir string) (bool, error) {
	ev, err := readKeyed(dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	return ev["frozen"] == 1, nil
}
