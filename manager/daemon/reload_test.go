package daemon_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/manager"
)

// TestRestartPreparesAcknowledgedCreates: a create acknowledged just
// before the daemon died, whose shim was never started (no bundle, or a
// bundle but nobody holding the container's shim.lock), is prepared by
// the restarted daemon instead of waiting to be LOST. One whose shim.lock
// is held has a shim on its way, so it waits for it.
func TestRestartPreparesAcknowledgedCreates(t *testing.T) {
	h := newHarness(t, "shim")
	started := h.create("started", "sleep")
	h.waitState(started.ID, manager.Ready)
	require.NoError(t, h.stop())

	// What the daemon leaves on disk when it dies between recording a
	// create and preparing it: the record, in CREATING, and no bundle.
	containers := filepath.Join(h.cfg.StateDir, "containers")
	unprepared := copyRecord(t, containers, started.ID, "00000000000000a1", "unprepared")
	begun := copyRecord(t, containers, started.ID, "00000000000000b2", "begun")
	require.NoError(t, os.MkdirAll(filepath.Join(containers, begun, "bundle"), 0o700))
	config, err := os.ReadFile(filepath.Join(containers, started.ID, "bundle", "config.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(containers, begun, "bundle", "config.json"), config, 0o600))
	// A shim launched but not registered yet holds its shim.lock.
	launched := copyRecord(t, containers, started.ID, "00000000000000c3", "launched")
	lock, err := os.OpenFile(filepath.Join(containers, launched, "shim.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB))

	h.start()
	h.waitState(unprepared, manager.Ready)
	require.NotNil(t, h.launcher.shim(unprepared), "launched by the restarted daemon")
	h.waitState(begun, manager.Ready)
	require.NotNil(t, h.launcher.shim(begun), "a create whose shim never started is launched again")
	require.Nil(t, h.launcher.shim(launched), "a create whose shim holds its lock is not launched twice")
	require.Equal(t, manager.Lost, h.waitState(launched, manager.Lost).State)
}

// copyRecord writes a CREATING record for a new id, named name, from the
// spec of the container from.
func copyRecord(t *testing.T, containers, from, id, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(containers, from, "state.json"))
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, jsonUnmarshal(data, &rec))
	rec["id"], rec["name"] = id, name
	rec["status"] = map[string]any{"state": "CREATING", "version": 1, "exitCode": 0, "changed": time.Now()}
	out, err := json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.Mkdir(filepath.Join(containers, id), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(containers, id, "state.json"), out, 0o600))
	return id
}

// TestRestartRelaunchesWhenLockHolderGoes: a CREATING container whose shim
// lock is held when the daemon restarts (by a child forked for another
// container, which shares the descriptor until it execs) but released
// without any shim registering has no shim: when the grace period ends it
// is launched, not LOST.
func TestRestartRelaunchesWhenLockHolderGoes(t *testing.T) {
	h := newHarness(t, "shim")
	started := h.create("started", "sleep")
	h.waitState(started.ID, manager.Ready)
	require.NoError(t, h.stop())

	containers := filepath.Join(h.cfg.StateDir, "containers")
	id := copyRecord(t, containers, started.ID, "00000000000000d4", "held")
	lock, err := os.OpenFile(filepath.Join(containers, id, "shim.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	require.NoError(t, err)
	require.NoError(t, unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB))

	h.start()
	require.Equal(t, manager.Creating, h.get(id).State)
	require.Nil(t, h.launcher.shim(id), "its lock is held: not launched")
	require.NoError(t, lock.Close())
	got, err := h.client.Wait(ctxT(t), id, manager.Ready, manager.Lost)
	require.NoError(t, err)
	require.Equal(t, manager.Ready, got.State)
	require.NotNil(t, h.launcher.shim(id))
}
