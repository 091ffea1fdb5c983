package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSigterm: cmanagerd stops cleanly on SIGTERM, exits 0 and removes its
// sockets; the next one starts on the same state directory.
func TestSigterm(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.cmd.Wait(), "exit status 0: %s", d.log)
	for _, name := range []string{"cm.sock", "shim.sock"} {
		_, err := os.Stat(filepath.Join(dir, name))
		require.ErrorIs(t, err, os.ErrNotExist, name)
	}
	require.Contains(t, d.log.String(), "cmanagerd shutting down")
	startDaemon(t, dir)
}
