package daemon_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
)

// TestRestartPreparesAcknowledgedCreates: a create acknowledged just
// before the daemon died, whose preparation never began (no bundle), is
// prepared by the restarted daemon instead of waiting to be LOST. One
// whose bundle was written may have a shim, so it waits for it.
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
	require.NoError(t, os.WriteFile(filepath.Join(containers, begun, "bundle", "config.json"), []byte(`{}`), 0o600))

	h.start()
	h.waitState(unprepared, manager.Ready)
	require.NotNil(t, h.launcher.shim(unprepared), "launched by the restarted daemon")
	require.Nil(t, h.launcher.shim(begun), "a create whose bundle was written is not launched twice")
	require.Equal(t, manager.Lost, h.waitState(begun, manager.Lost).State)
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
