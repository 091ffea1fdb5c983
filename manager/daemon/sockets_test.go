package daemon

import (
	"os"
	"path/filepath"
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
