package cgroupfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Group is one container's cgroup, the same path in every hierarchy of the
// host. The same methods work on v1, v2 and hybrid hosts.
type Group interface {
	// Path is the cgroup path the group was made from (see ResolvePath).
	Path() string
	// Create makes the directory in every hierarchy; it is idempotent.
	Create() error
	// Apply validates and writes the limits, at create time and for
	// `cmrun update`. Warnings name requested settings that this host
	// cannot enforce (deprecated knobs); the caller should show them.
	Apply(r *specs.LinuxResources) (warnings []string, err error)
	// Add moves a process into the group in every hierarchy.
	Add(pid int) error
	// Entry names the files through which a single-threaded process about
	// to fork the container's init gets in without the lock Add waits for.
	Entry() Entry
	// Dirs maps each hierarchy's mount point to the group's directory in
	// it: a relative path lands below a different cgroup in each one.
	Dirs() map[string]string
	// Pids lists the processes in the group.
	Pids() ([]int, error)
	// Stats reads the usage counters.
	Stats() (*Stats, error)
	// Freeze stops every process and returns once the kernel reports the
	// group frozen.
	Freeze() error
	// Thaw lets frozen processes run again.
	Thaw() error
	// Frozen reports whether the group is frozen.
	Frozen() (bool, error)
	// KillAll sends sig to every process; with SIGKILL it returns once the
	// group is empty.
	KillAll(sig unix.Signal) error
	// OOMKillCount counts processes the OOM killer killed in the group.
	OOMKillCount() (uint64, error)
	// Destroy removes the directory from every hierarchy. It kills
	// nothing: it waits briefly for exiting processes to leave and fails
	// if the group stays busy. Missing directories are fine.
	Destroy() error
}

// How long the package waits for the kernel to reach a state it asked for.
// These bound waits on a stuck kernel or process; they are not tuning knobs.
const (
	freezeTimeout  = 10 * time.Second
	killTimeout    = 10 * time.Second
	destroyTimeout = 5 * time.Second
)

// group implements Group for every layout: it holds one directory per
// hierarchy, and each operation picks the hierarchy that has the
// controller it needs (a composition rather than one type per layout,
// because a hybrid host needs both kinds at once).
type group struct {
	host *Host
	path string
	dirs []groupDir
	// created lists directories Create made, parents before children, so
	// a failed Create or a Destroy can leave no empty directory behind.
	created []string
}

// groupDir is the group's directory in one hierarchy.
type groupDir struct {
	h   *hierarchy
	dir string
}

// Group returns the group at path, a path from ResolvePath (absolute, or
// relative to the caller's cgroup). It changes nothing on disk.
func (h *Host) Group(path string) (Group, error) {
	clean, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	g := &group{host: h, path: clean}
	for _, hi := range h.hierarchies() {
		g.dirs = append(g.dirs, groupDir{h: hi, dir: dirIn(hi, clean)})
	}
	return g, nil
}

func (g *group) Path() string { return g.path }

func (g *group) Dirs() map[string]string {
	dirs := make(map[string]string, len(g.dirs))
	for _, d := range g.dirs {
		dirs[d.h.mountpoint] = d.dir
	}
	return dirs
}

// dirOf is the group's directory in the hierarchy holding controller.
func (g *group) dirOf(controller string) (groupDir, bool) {
	hi := g.host.lookup(controller)
	for _, d := range g.dirs {
		if d.h == hi {
			return d, true
		}
	}
	return groupDir{}, false
}

// unifiedDir is the group's directory in the cgroup2 hierarchy, if any.
func (g *group) unifiedDir() (string, bool) {
	for _, d := range g.dirs {
		if d.h.v2 {
			return d.dir, true
		}
	}
	return "", false
}

// procsDir is where the group's process list is read. On v2 that is the
// one hierarchy; on v1 any hierarchy would do, since Add joins them all, so
// prefer the ones a container always has.
func (g *group) procsDir() string {
	for _, c := range []string{"pids", "freezer", "memory", "cpu"} {
		if d, ok := g.dirOf(c); ok {
			return d.dir
		}
	}
	if dir, ok := g.unifiedDir(); ok {
		return dir
	}
	return g.dirs[0].dir
}

func (g *group) Create() error {
	for _, d := range g.dirs {
		made, err := mkdirTracked(d.h.mountpoint, d.dir)
		g.created = append(g.created, made...)
		if err == nil && d.h.v2 {
			err = enableControllers(d.h.mountpoint, d.dir)
		}
		if err == nil && !d.h.v2 && d.h.has("cpuset") {
			err = fillCpuset(d.h.mountpoint, d.dir)
		}
		if err != nil {
			g.removeCreated()
			return fmt.Errorf("create cgroup %s: %w", g.path, err)
		}
	}
	return nil
}

// mkdirTracked is os.MkdirAll below root that also returns the
// directories it made, parents first.
func mkdirTracked(root, dir string) ([]string, error) {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return nil, fmt.Errorf("%s is not below %s", dir, root)
	}
	var made []string
	cur := root
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, c)
		err := os.Mkdir(cur, 0o755)
		switch {
		case err == nil:
			made = append(made, cur)
		case errors.Is(err, os.ErrExist):
		default:
			return made, fmt.Errorf("mkdir: %w", err)
		}
	}
	return made, nil
}

// enableControllers makes every controller the hierarchy offers usable in
// dir: cgroup v2 only gives a child the controllers listed in its parent's
// cgroup.subtree_control, so each ancestor from the root down must enable
// them. A controller an ancestor does not offer is skipped; resources that
// need it then fail on the missing file in Apply.
func enableControllers(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	parent := root
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		offered, err := readControllers(parent)
		if err != nil {
			return err
		}
		enabledText, err := readFile(parent, "cgroup.subtree_control")
		if err != nil {
			return err
		}
		enabled := strings.Fields(enabledText)
		for _, ctrl := range offered {
			if slices.Contains(enabled, ctrl) {
				continue
			}
			if err := writeFile(parent, "cgroup.subtree_control", "+"+ctrl); err != nil {
				if errors.Is(err, unix.EBUSY) {
					// The "no internal processes" rule: a cgroup with
					// processes of its own cannot hand controllers down.
					return fmt.Errorf("enable %s for children of %s, which holds processes itself: %w", ctrl, parent, err)
				}
				return fmt.Errorf("enable %s: %w", ctrl, err)
			}
		}
		parent = filepath.Join(parent, c)
	}
	return nil
}

// fillCpuset gives new v1 cpuset directories their parent's cpus and mems.
// A v1 cpuset starts with both empty, and the kernel refuses tasks
// (ENOSPC) until they are set.
func fillCpuset(root, dir string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	parent := root
	for _, c := range strings.Split(rel, string(filepath.Separator)) {
		cur := filepath.Join(parent, c)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			v, err := readFile(cur, f)
			if err != nil {
				return err
			}
			if v != "" {
				continue
			}
			pv, err := readFile(parent, f)
			if err != nil {
				return err
			}
			if err := writeFile(cur, f, pv); err != nil {
				return err
			}
		}
		parent = cur
	}
	return nil
}

func (g *group) Add(pid int) error {
	for _, d := range g.dirs {
		if err := writeFile(d.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("add pid %d to cgroup %s: %w", pid, g.path, err)
		}
	}
	return nil
}

// Pids includes the processes of sub-cgroups the container made: they
// are the container's too (runc's ps and kill --all see them).
func (g *group) Pids() ([]int, error) {
	top := g.procsDir()
	var pids []int
	for _, dir := range append([]string{top}, subgroups(top)...) {
		s, err := readFile(dir, "cgroup.procs")
		if err != nil {
			if dir != top && isNotExist(err) {
				continue // removed meanwhile
			}
			return nil, fmt.Errorf("list processes of cgroup %s: %w", g.path, err)
		}
		for _, f := range strings.Fields(s) {
			pid, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("list processes of cgroup %s: bad pid %q", g.path, f)
			}
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// subgroups lists the cgroups below dir, deepest first (the order rmdir
// needs); a directory that cannot be read has none.
func subgroups(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			sub := filepath.Join(dir, e.Name())
			out = append(append(out, subgroups(sub)...), sub)
		}
	}
	return out
}

// Destroy removes the sub-cgroups made inside the group too, as runc's
// delete does: they would keep the group's directory busy forever.
func (g *group) Destroy() error {
	var errs []error
	for _, d := range g.dirs {
		// Most groups have no sub-cgroups and are empty by now: one
		// rmdir, no listing of a directory of some thirty control files.
		if err := unix.Rmdir(d.dir); err == nil || errors.Is(err, unix.ENOENT) {
			continue
		}
		for _, dir := range append(subgroups(d.dir), d.dir) {
			if err := removeWhenEmpty(dir); err != nil {
				errs = append(errs, err)
				break
			}
		}
	}
	if len(errs) == 0 {
		// Parents Create made for a nested path go too, unless something
		// else (another container) now lives in them.
		g.removeCreated()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy cgroup %s: %w", g.path, err)
	}
	return nil
}

// removeWhenEmpty removes a cgroup directory, retrying while the kernel
// answers EBUSY: processes that were just killed stay counted until they
// finish exiting.
func removeWhenEmpty(dir string) error {
	return waitFor(destroyTimeout, func() (bool, error) {
		err := unix.Rmdir(dir)
		switch {
		case err == nil || errors.Is(err, unix.ENOENT):
			return true, nil
		case errors.Is(err, unix.EBUSY):
			return false, nil
		default:
			return false, fmt.Errorf("rmdir %s: %w", dir, err)
		}
	}, func() error {
		return fmt.Errorf("rmdir %s: still busy after %v: %w", dir, destroyTimeout, ErrTimeout)
	})
}

// removeCreated removes, deepest first, the directories this value
// created that are still there; ones now in use are left alone.
func (g *group) removeCreated() {
	for i := len(g.created) - 1; i >= 0; i-- {
		_ = unix.Rmdir(g.created[i])
	}
	g.created = nil
}

// waitFor polls done until it reports true, with short sleeps that grow
// to 50ms. After timeout it returns timedOut's error.
func waitFor(timeout time.Duration, done func() (bool, error), timedOut func() error) error {
	deadline := time.Now().Add(timeout)
	sleep := time.Millisecond
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return timedOut()
		}
		time.Sleep(sleep)
		sleep = min(2*sleep, 50*time.Millisecond)
	}
}
