package daemon

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSocketGroup: --socket-group opens the client socket (only) to a group.
func TestSocketGroup(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "cm.sock"),
		ShimSocket: filepath.Join(dir, "shim.sock"), SocketGroup: "65534", Launcher: nopLauncher{}}
	d, err := New(cfg)
	require.NoError(t, err)
	defer d.clientSock.close()
	defer d.shimSock.close()
	defer d.store.Close()
	tests := []struct {
		path string
		mode os.FileMode
		gid  uint32
	}{
		{cfg.Socket, 0o660, 65534},
		{cfg.ShimSocket, 0o600, 0},
	}
	for _, tt := range tests {
		st, err := os.Stat(tt.path)
		require.NoError(t, err)
		require.Equal(t, tt.mode, st.Mode().Perm(), tt.path)
		require.Equal(t, tt.gid, st.Sys().(*syscall.Stat_t).Gid, tt.path)
	}
	cfg.SocketGroup = "no-such-group-here"
	cfg.StateDir = filepath.Join(dir, "other")
	_, err = New(cfg)
	require.ErrorContains(t, err, "socket group")
}

// TestStaleSocketOfDeadDaemon: a socket whose listener is held only by
// the descendants of a dead daemon (a child it forked and had not exec'd
// yet when it was killed) does not keep a new daemon out; one held by a
// live daemon does.
func TestStaleSocketOfDeadDaemon(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+"/", "./testdata/stalesocket")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	path := filepath.Join(dir, "cm.sock")
	out, err = exec.Command(filepath.Join(dir, "stalesocket"), path).Output()
	require.NoError(t, err)
	child, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })

	s, err := listenSocket(path, 0o600, -1)
	require.NoError(t, err, "the daemon that listened is dead")
	_, err = listenSocket(path, 0o600, -1)
	require.ErrorContains(t, err, "another daemon is listening on it")
	s.close()
}
