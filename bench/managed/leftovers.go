package managed

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"cm/cgroupfs/mountinfo"
)

// cgroupRoot is where the hierarchies are mounted; the daemon puts a
// container's cgroup at /cm/ID in each (manager/daemon/bundle.go).
const cgroupRoot = "/sys/fs/cgroup"

// Leftovers lists what remains of the containers ids after they were
// removed: live shims of this daemon, their cgroups in any hierarchy,
// and entries in the daemon's state directory or runtime root. Empty
// means the removal was complete.
func (d *Daemon) Leftovers(ids []string) ([]string, error) {
	var left []string
	shims, err := d.shimProcesses()
	if err != nil {
		return nil, err
	}
	for _, pid := range shims {
		left = append(left, fmt.Sprintf("shim process %d", pid))
	}

	hierarchies, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		for _, h := range hierarchies {
			if _, err := os.Stat(filepath.Join(h, "cm", id)); err == nil {
				left = append(left, "cgroup "+filepath.Join(h, "cm", id))
			}
		}
	}

	for _, dir := range []string{filepath.Join(d.StateDir, "containers"), d.RuntimeRoot()} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", dir, err)
		}
		for _, e := range entries {
			// cmrun's caches (.seccomp-cache) are shared by all containers, not anyone's state.
			if !strings.HasPrefix(e.Name(), ".") {
				left = append(left, "state "+filepath.Join(dir, e.Name()))
			}
		}
	}
	return left, nil
}

// shimProcesses returns the processes whose command line names this
// daemon's shim socket: its shims, whatever state they are in.
func (d *Daemon) shimProcesses() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	marker := []byte(filepath.Join(d.Dir, "shim.sock"))
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == d.Pid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, marker) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// cgroupHierarchies returns the mount point of every cgroup hierarchy
// (v1 and v2) of this mount namespace.
func cgroupHierarchies() ([]string, error) {
	mounts, err := mountinfo.Thread()
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	var out []string
	for _, m := range mounts {
		if (m.FSType == "cgroup" || m.FSType == "cgroup2") && mountinfo.Under(m.Point, cgroupRoot) {
			out = append(out, m.Point)
		}
	}
	return out, nil
}
