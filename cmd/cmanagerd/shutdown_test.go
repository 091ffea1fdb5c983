package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
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

// TestSigtermWithQueuedCreates: SIGTERM while hundreds of creates wait in
// the executor's queue does not launch them all first (that took 78 s
// with 1,200); it loses none of them either: the next daemon launches
// those that were not.
func TestSigtermWithQueuedCreates(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	d := startDaemon(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const want = 400
	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			c := api.NewClient(filepath.Join(dir, "cm.sock"))
			defer c.Close()
			for {
				ct, err := c.Create(ctx, api.CreateRequest{Rootfs: rootfs, Args: []string{"sleep"}})
				if err != nil {
					return // the daemon is shutting down
				}
				mu.Lock()
				acked = append(acked, ct.ID)
				n := len(acked)
				mu.Unlock()
				if n >= want {
					return
				}
			}
		})
	}
	wg.Wait()
	term := time.Now()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, d.cmd.Wait(), "exit status 0: %s", d.log)
	creating := 0
	for _, id := range acked {
		data, err := os.ReadFile(filepath.Join(dir, "state", "containers", id, "state.json"))
		require.NoError(t, err, "acknowledged create %s", id)
		if strings.Contains(string(data), `"CREATING"`) {
			creating++
		}
	}
	t.Logf("shutdown took %v; %d of %d acknowledged creates were left for the next daemon", time.Since(term), creating, len(acked))

	d = startDaemon(t, dir)
	for _, id := range acked {
		ct, err := d.client.Wait(ctx, id, manager.Ready, manager.Dead, manager.Lost)
		require.NoError(t, err)
		require.Equal(t, manager.Ready, ct.State, "%s: %s", id, ct.Error)
	}
}
