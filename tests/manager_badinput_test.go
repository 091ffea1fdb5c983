package tests

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/runtime"

	"cm/tests/fixture"
)

// TestManagerBadInput drives the real daemon with cmctl and wrong
// requests: each fails with a non-zero exit and one clear line, and a
// create that fails leaves nothing behind.
func TestManagerBadInput(t *testing.T) {
	dir := t.TempDir()
	m := startManager(t, dir, "--heartbeat", "200ms")

	t.Run("unknown container", func(t *testing.T) {
		m := m.in(t)
		for _, args := range [][]string{
			{"inspect", "0123456789abcdef"}, {"start", "0123456789abcdef"}, {"stop", "nosuchname"},
			{"kill", "nosuchname"}, {"rm", "--force", "0123456789abcdef"}, {"wait", "nosuchname"}, {"logs", "nosuchname"},
		} {
			r := m.cmctl(args...)
			requireOneLineError(t, r, `cmctl: container "`+args[len(args)-1]+`": no such container`)
			require.Empty(t, r.stdout, "cmctl %v", args)
		}
	})

	t.Run("missing rootfs", func(t *testing.T) {
		m := m.in(t)
		missing := filepath.Join(dir, "no-such-rootfs")
		r := m.cmctl("create", "--name", "nothing", "--rootfs", missing, "--", "true")
		requireOneLineError(t, r, "rootfs: stat "+missing+": no such file or directory")
		m.requireEmpty()
	})

	t.Run("program missing in rootfs", func(t *testing.T) {
		m := m.in(t)
		// The daemon accepts it; the shim's create fails, so the container
		// is DEAD with the reason, and rm leaves nothing of it.
		empty := filepath.Join(dir, "empty-rootfs")
		require.NoError(t, os.Mkdir(empty, 0o755))
		r := m.cmctl("create", "--name", "noprogram", "--rootfs", empty, "--", "/bin/nothing")
		requireOneLineError(t, r, `is DEAD: launch `)
		require.Contains(t, r.stderr, `exec "/bin/nothing": no such file or directory`)
		id := strings.TrimSpace(r.stdout)
		require.Regexp(t, `^[0-9a-f]{16}$`, id, "the failed container's id")
		ct, err := m.Client.Get(m.ctx(), id)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, ct.State)
		require.Contains(t, ct.Error, "/bin/nothing")
		// It never ran, so it has no exit status for wait to pass on as a success.
		requireOneLineError(t, m.cmctl("wait", id), "cmctl: container "+id+" never ran: launch ")
		require.Empty(t, m.shimPids(), "the shim that failed is gone")
		require.Empty(t, cgroupDirs(id))
		require.Equal(t, id, m.cmctlOK("rm", "noprogram"))
		m.requireContainerGone(id)
		m.requireEmpty()
	})

	t.Run("illegal transition", func(t *testing.T) {
		m := m.in(t)
		ct := m.runToEnd("true")
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"start", ct.ID}, "cannot start container " + ct.ID + ": it is DEAD (start needs READY)"},
			{[]string{"stop", ct.ID}, "cannot stop container " + ct.ID + ": it is DEAD (stop needs RUNNING or PAUSED)"},
			{[]string{"kill", ct.ID, "TERM"}, "cannot kill container " + ct.ID + ": it is DEAD (kill needs READY or RUNNING or STOPPING or PAUSED)"},
		} {
			requireOneLineError(t, m.cmctl(tc.args...), "cmctl: "+tc.want)
		}
		_, err := m.Client.Start(m.ctx(), ct.ID)
		require.Equal(t, http.StatusConflict, api.StatusOf(err), "start of a DEAD container: %v", err)
		// Refused operations changed nothing.
		got, err := m.Client.Get(m.ctx(), ct.ID)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, got.State)
		require.Equal(t, ct.Version, got.Version)

		running := m.run("sleep", "1000")
		requireOneLineError(t, m.cmctl("rm", running.ID),
			"cmctl: cannot rm container "+running.ID+": it is RUNNING (rm needs DEAD or LOST)")
		require.True(t, fixture.Alive(running.Pid), "a refused rm kills nothing")
		for _, id := range []string{ct.ID, running.ID} {
			require.Equal(t, id, m.cmctlOK("rm", "--force", id))
			m.requireContainerGone(id)
		}
	})
	m.requireEmpty()
	m.requireNoShims()
}

// requireEmpty checks that the daemon holds no container: none in its
// table or state directory, none in its runtime root, no shim.
func (m *managerProc) requireEmpty() {
	m.t.Helper()
	list, err := m.Client.List(m.ctx())
	require.NoError(m.t, err)
	require.Empty(m.t, list)
	entries, err := os.ReadDir(filepath.Join(m.StateDir, "containers"))
	require.NoError(m.t, err)
	require.Empty(m.t, entries, "container directories in the daemon's state")
	containers, err := runtime.List(m.RuntimeRoot)
	require.NoError(m.t, err)
	for _, c := range containers {
		m.t.Errorf("container %s left in the runtime root: %s", c.ID, c.Status())
	}
	require.Empty(m.t, m.shimPids())
}
