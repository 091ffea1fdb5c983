package daemon_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
)

// TestRestartQuarantinesDamagedRecords: a truncated, garbled or empty
// state.json, or a garbled boot file, does not stop the daemon: the
// damaged container is reported with the reason, its file is kept, its
// live shim adopts it again, and every other container is served.
func TestRestartQuarantinesDamagedRecords(t *testing.T) {
	h := newHarness(t, "shim")
	ids := map[string]string{}
	for _, name := range []string{"truncated", "garbled", "empty", "healthy"} {
		c := h.create(name, "sleep")
		h.waitState(c.ID, manager.Ready)
		ids[name] = c.ID
	}
	require.NoError(t, h.stop())
	for _, id := range ids {
		h.launcher.shim(id).SetSilent(true) // until the damaged ones are seen LOST
	}

	containers := filepath.Join(h.cfg.StateDir, "containers")
	statePath := func(name string) string { return filepath.Join(containers, ids[name], "state.json") }
	data, err := os.ReadFile(statePath("truncated"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(statePath("truncated"), data[:len(data)/2], 0o600))
	require.NoError(t, os.WriteFile(statePath("garbled"), []byte("\x00\x17{not json"), 0o600))
	require.NoError(t, os.WriteFile(statePath("empty"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(h.cfg.StateDir, "boot"), []byte("garbage\n"), 0o600))

	h.start()
	for _, name := range []string{"truncated", "garbled", "empty"} {
		c := h.get(ids[name])
		require.Equal(t, manager.Lost, c.State, name)
		require.Contains(t, c.Error, "state.json", "%s: %+v", name, c)
		require.FileExists(t, statePath(name)+".damaged", "%s: the damaged record is kept", name)
	}
	for _, id := range ids {
		h.launcher.shim(id).SetSilent(false)
	}
	for _, name := range []string{"truncated", "garbled", "empty", "healthy"} {
		// Its shim is alive: its registration adopts it again.
		h.waitState(ids[name], manager.Ready)
		require.False(t, h.launcher.shim(ids[name]).Aborted(), name)
	}
}

// TestRestartAdoptsContainerWithoutRecord: a deleted state.json neither
// deletes the container's directory nor makes its live shim abort: the
// container is reported, and its shim adopts it.
func TestRestartAdoptsContainerWithoutRecord(t *testing.T) {
	h := newHarness(t, "shim")
	c := h.create("orphan", "sleep")
	h.waitState(c.ID, manager.Ready)
	require.NoError(t, h.stop())
	dir := filepath.Join(h.cfg.StateDir, "containers", c.ID)
	require.NoError(t, os.Remove(filepath.Join(dir, "state.json")))
	h.launcher.shim(c.ID).SetSilent(true)

	h.start()
	got := h.get(c.ID)
	require.Equal(t, manager.Lost, got.State)
	require.Contains(t, got.Error, "state.json")
	h.launcher.shim(c.ID).SetSilent(false)
	got = h.waitState(c.ID, manager.Ready)
	require.DirExists(t, filepath.Join(dir, "bundle"))
	require.FileExists(t, filepath.Join(dir, "container.log"))
	require.False(t, h.launcher.shim(c.ID).Aborted(), "its shim was told the container is unknown")
	require.Equal(t, []string{"sleep"}, got.Command, "the command comes back from the bundle")
}

// TestFullStateDirIsAllOrNothing fills the state directory (a small
// tmpfs) and checks every change is refused with an error and not applied,
// or applied, recorded and published; nothing hangs; once space is back
// everything works and no transition was missed by the event stream.
func TestFullStateDirIsAllOrNothing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	require.NoError(t, os.Mkdir(state, 0o700))
	require.NoError(t, unix.Mount("tmpfs", state, "tmpfs", 0, "size=1m,mode=0700"))
	t.Cleanup(func() { require.NoError(t, unix.Unmount(state, unix.MNT_DETACH)) })
	h := newHarness(t, "shim", func(c *daemon.Config) { c.StateDir = state })

	ready := func(name string) string {
		c := h.create(name, "sleep")
		h.waitState(c.ID, manager.Ready)
		return c.ID
	}
	running, forced, dying, starting := ready("running"), ready("forced"), ready("dying"), ready("starting")
	for _, id := range []string{running, dying} {
		_, err := h.client.Start(ctxT(t), id)
		require.NoError(t, err)
	}
	info, err := h.client.Info(ctxT(t))
	require.NoError(t, err)
	events, err := h.client.Events(ctxT(t), &info.LastEvent)
	require.NoError(t, err)
	defer events.Close()

	filler := fill(t, state)

	_, err = h.client.Create(ctxT(t), api.CreateRequest{Name: "refused", Rootfs: h.rootfs, Args: []string{"sleep"}})
	require.Error(t, err, "create on a full state directory")
	list, err := h.client.List(ctxT(t))
	require.NoError(t, err)
	require.Len(t, list, 4, "the refused create is not listed")
	entries, err := os.ReadDir(filepath.Join(state, "containers"))
	require.NoError(t, err)
	require.Len(t, entries, 4, "the refused create left nothing behind")

	// The shim starts the program, but its RUNNING cannot be recorded:
	// start answers with that error instead of waiting for it.
	_, err = h.client.Start(ctxT(t), starting)
	require.ErrorContains(t, err, "cannot record")
	require.Equal(t, manager.Ready, h.get(starting).State)

	_, err = h.client.Stop(ctxT(t), running, api.StopRequest{})
	require.Error(t, err, "stop on a full state directory")
	require.Equal(t, manager.Running, h.get(running).State, "a refused stop is not applied")
	require.Equal(t, manager.Running, h.launcher.shim(running).State(), "a refused stop sends no signal")

	// Its exit cannot be recorded: it is not applied, and the shim keeps
	// trying until it can.
	_, err = h.client.Kill(ctxT(t), dying, "KILL")
	require.NoError(t, err)
	ctx := ctxT(t)
	for h.launcher.shim(dying).State() != manager.Dead {
		require.NoError(t, ctx.Err())
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, manager.Running, h.get(dying).State, "an exit that cannot be recorded is not applied")

	// rm needs no space (it frees some, so it comes last): it happens, and is published.
	_, err = h.client.Delete(ctxT(t), forced, true)
	require.NoError(t, err, "rm --force on a full state directory")
	_, err = h.client.Get(ctxT(t), forced)
	require.ErrorContains(t, err, "no such container")
	require.NoDirExists(t, filepath.Join(state, "containers", forced))

	require.NoError(t, os.Remove(filler))
	dead := h.waitState(dying, manager.Dead)
	require.Equal(t, 128+int(syscall.SIGKILL), dead.ExitCode)
	for deadSeen, deleted := false, false; !deadSeen || !deleted; {
		ev, err := events.Next()
		require.NoError(t, err, "the DEAD of %s or the rm of %s was never published", dying, forced)
		require.NotEqual(t, api.EventResync, ev.Type)
		require.NotEqual(t, running, ev.ID, "no transition of the refused stop: %+v", ev)
		deadSeen = deadSeen || ev.ID == dying && ev.To == manager.Dead
		deleted = deleted || ev.ID == forced && ev.Type == api.EventDeleted
	}
	h.waitState(starting, manager.Running)

	_, err = h.client.Stop(ctxT(t), running, api.StopRequest{})
	require.NoError(t, err)
	h.waitState(running, manager.Dead)
	h.waitState(h.create("after", "sleep").ID, manager.Ready)
}

// fill writes a file into dir until the filesystem is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.True(t, errors.Is(err, unix.ENOSPC), "fill %s: %v", dir, err)
			break
		}
	}
	// A last few bytes, so no page is left half empty.
	for {
		if _, err := f.Write([]byte{0}); err != nil {
			break
		}
	}
	return path
}
