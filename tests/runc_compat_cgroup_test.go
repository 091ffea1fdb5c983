package tests

// runc's behaviour with a cgroup that exists before the container does.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// freezerDir is where a cgroup named name lives in the freezer's
// hierarchy, and the file and value that freeze it.
func freezerDir(name string) (dir, file, frozen, thawed string) {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return filepath.Join("/sys/fs/cgroup", name), "cgroup.freeze", "1", "0"
	}
	return filepath.Join("/sys/fs/cgroup/freezer", name), "freezer.state", "FROZEN", "THAWED"
}

// TestRuncCompatFrozenCgroup: a container whose cgroup already exists
// frozen is refused, as runc refuses it ("container's cgroup unexpectedly
// frozen"). Before, cmrun's run -d hung forever with the init stuck in
// the frozen group. The group, not cmrun's, is left as it was.
func TestRuncCompatFrozenCgroup(t *testing.T) {
	p := newPair(t)
	bundle := p.bundle(nil, "true")
	id := p.e.newID()
	for _, name := range []string{id, runcID(id)} {
		dir, file, frozen, thawed := freezerDir(name)
		require.NoError(t, os.Mkdir(dir, 0o755))
		t.Cleanup(func() {
			os.WriteFile(filepath.Join(dir, file), []byte(thawed), 0o644)
			p.runc("delete", "--force", runcID(id))
			p.e.forceDelete(id)
			os.Remove(dir)
		})
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(frozen), 0o644))
	}
	r, c := p.both(id, "run", "--detach", "--bundle", bundle, id)
	sameCode(t, r, c, "run -d in a frozen cgroup")
	requireOneLineError(t, c, "frozen")
	dir, file, frozen, _ := freezerDir(id)
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	require.NoError(t, err, "the frozen group must be left in place")
	require.Empty(t, strings.TrimSpace(string(procs)), "a process was left in the frozen group")
	state, err := os.ReadFile(filepath.Join(dir, file))
	require.NoError(t, err)
	require.Equal(t, frozen, strings.TrimSpace(string(state)))
	_, err = os.Stat(filepath.Join(p.e.root, id))
	require.True(t, os.IsNotExist(err), "state of the refused container left behind")
}

// cgroupRoots are the mount points of the host's cgroup hierarchies.
func cgroupRoots(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return []string{"/sys/fs/cgroup"}
	}
	procs, err := filepath.Glob("/sys/fs/cgroup/*/cgroup.procs")
	require.NoError(t, err)
	var roots []string
	for _, p := range procs {
		roots = append(roots, filepath.Dir(p))
	}
	require.NotEmpty(t, roots)
	return roots
}

// TestRuncCompatNonEmptyCgroup: a container whose cgroup already holds a
// process starts, with runc's warning naming how many (before: cmrun
// said nothing). Delete then removes the container; the group stays
// busy with the stranger's process, which the test removes itself.
func TestRuncCompatNonEmptyCgroup(t *testing.T) {
	p := newPair(t)
	bundle := p.bundle(nil, "sleep", "300")
	id := p.e.newID()
	stranger := exec.Command("sleep", "300")
	require.NoError(t, stranger.Start())
	var dirs []string
	t.Cleanup(func() {
		p.runc("delete", "--force", runcID(id))
		p.e.forceDelete(id)
		stranger.Process.Kill()
		stranger.Wait()
		for _, d := range dirs {
			os.Remove(d)
		}
	})
	for _, name := range []string{id, runcID(id)} {
		for _, root := range cgroupRoots(t) {
			dir := filepath.Join(root, name)
			require.NoError(t, os.Mkdir(dir, 0o755))
			dirs = append(dirs, dir)
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if data, err := os.ReadFile(filepath.Join(root, f)); err == nil {
					require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
				}
			}
		}
	}
	// The stranger joins the cmrun container's group, then the runc one's
	// (a process is in one group per hierarchy): each runtime sees it once.
	join := func(name string) {
		for _, root := range cgroupRoots(t) {
			require.NoError(t, os.WriteFile(filepath.Join(root, name, "cgroup.procs"), []byte(itoa(stranger.Process.Pid)), 0o644))
		}
	}
	join(id)
	c := p.e.cmrun("run", "--detach", "--bundle", bundle, id)
	join(runcID(id))
	r := p.runc("run", "--detach", "--bundle", bundle, runcID(id))
	sameCode(t, r, c, "run -d in a non-empty cgroup")
	require.Equal(t, 0, c.code, c.stderr)
	const warning = "container's cgroup is not empty: 1 process(es) found"
	require.Contains(t, r.stderr, warning)
	require.Contains(t, c.stderr, warning)
	require.Equal(t, 1, strings.Count(strings.TrimSpace(c.stderr), "\n")+1, "one warning line: %s", c.stderr)
}
