package tests

// runc's behaviour with a cgroup that exists before the container does.

import (
	"os"
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
