package daemon_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/shimtest"
	"cm/shim/proto"
)

// TestLifecycle runs containers with the fake shim: a real shim protocol on
// the real sockets, with a scripted workload instead of a container.
func TestLifecycle(t *testing.T) {
	h := newHarness(t, "shim")
	tests := []struct {
		name     string
		args     []string
		act      func(t *testing.T, id string) // after start
		exitCode int
		signal   int
		log      []string
	}{
		{name: "exits by itself", args: []string{"exit", "3"}, exitCode: 3, log: []string{"started", "exited with code 3"}},
		{name: "kill TERM", args: []string{"sleep"}, act: func(t *testing.T, id string) {
			_, err := h.client.Kill(ctxT(t), id, "SIGTERM")
			require.NoError(t, err)
		}, exitCode: 143, signal: 15, log: []string{"got signal 15"}},
		{name: "stop within the grace period", args: []string{"sleep"}, act: func(t *testing.T, id string) {
			c, err := h.client.Stop(ctxT(t), id, api.StopRequest{})
			require.NoError(t, err)
			require.Equal(t, manager.Stopping, c.State)
		}, exitCode: 143, signal: 15, log: []string{"got signal 15"}},
		{name: "stop ignored, then SIGKILL to the cgroup", args: []string{"ignore-term"}, act: func(t *testing.T, id string) {
			timeout := 0.2
			c, err := h.client.Stop(ctxT(t), id, api.StopRequest{Timeout: &timeout, Signal: "TERM"})
			require.NoError(t, err)
			require.Equal(t, manager.Stopping, c.State)
		}, exitCode: 137, signal: 9, log: []string{"got signal 15", "exited with code 137 (signal 9)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := h.create("", tt.args...)
			h.waitState(c.ID, manager.Ready)
			c, err := h.client.Start(ctxT(t), c.ID)
			require.NoError(t, err)
			require.Contains(t, []manager.State{manager.Running, manager.Dead}, c.State)
			require.NotZero(t, c.Pid)
			if tt.act != nil {
				tt.act(t, c.ID)
			}
			c = h.waitState(c.ID, manager.Dead)
			require.Equal(t, tt.exitCode, c.ExitCode)
			require.Equal(t, tt.signal, c.Signal)

			logs, err := h.client.Logs(ctxT(t), c.ID, false)
			require.NoError(t, err)
			data, err := io.ReadAll(logs)
			logs.Close()
			require.NoError(t, err)
			for _, line := range tt.log {
				require.Contains(t, string(data), line)
			}

			_, err = h.client.Delete(ctxT(t), c.ID, false)
			require.NoError(t, err)
			_, err = h.client.Get(ctxT(t), c.ID)
			require.Equal(t, http.StatusNotFound, api.StatusOf(err))
			<-h.launcher.shim(c.ID).Done() // the shim was told to delete, and exited
			require.NoDirExists(t, filepath.Join(h.cfg.StateDir, "containers", c.ID))
		})
	}
}

func TestNamesAndForceDelete(t *testing.T) {
	h := newHarness(t, "shim")
	c := h.create("web", "sleep")
	_, err := h.client.Create(ctxT(t), api.CreateRequest{Name: "web", Rootfs: h.rootfs, Args: []string{"sleep"}})
	require.Equal(t, http.StatusConflict, api.StatusOf(err), "duplicate name: %v", err)

	h.waitState("web", manager.Ready)
	_, err = h.client.Start(ctxT(t), "web")
	require.NoError(t, err)
	_, err = h.client.Delete(ctxT(t), "web", false)
	require.Equal(t, http.StatusConflict, api.StatusOf(err), "rm of a RUNNING container needs force")
	gone, err := h.client.Delete(ctxT(t), "web", true)
	require.NoError(t, err)
	require.Equal(t, c.ID, gone.ID)
	shim := h.launcher.shim(c.ID)
	<-shim.Done()
	require.Equal(t, manager.Dead, shim.State(), "force rm killed the workload")
	// The name is free again.
	h.create("web", "sleep")
}

// TestFollowLogs streams a log while the workload writes it, until it dies.
func TestFollowLogs(t *testing.T) {
	h := newHarness(t, "shim")
	c := h.create("", "sleep")
	h.waitState(c.ID, manager.Ready)
	logs, err := h.client.Logs(ctxT(t), c.ID, true)
	require.NoError(t, err)
	defer logs.Close()
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	_, err = h.client.Kill(ctxT(t), c.ID, "9")
	require.NoError(t, err)
	data, err := io.ReadAll(logs) // ends because the container is DEAD
	require.NoError(t, err)
	require.Contains(t, string(data), "created")
	require.Contains(t, string(data), "started")
	require.Contains(t, string(data), "exited with code 137 (signal 9)")
}

// TestWatchdog: a silent shim makes its container LOST; heard again, it
// comes back as it was.
func TestWatchdog(t *testing.T) {
	h := newHarness(t, "shim")
	c := h.create("", "sleep")
	h.waitState(c.ID, manager.Ready)
	_, err := h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	shim := h.launcher.shim(c.ID)

	shim.SetSilent(true)
	lost := h.waitState(c.ID, manager.Lost)
	require.False(t, lost.Unconfirmed)
	shim.SetSilent(false)
	h.waitState(c.ID, manager.Running)
	require.Positive(t, shim.Heartbeats())
}

// TestShimAbort: a shim the daemon does not know hears 404 and aborts.
func TestShimAbort(t *testing.T) {
	h := newHarness(t, "shim")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"process":{"args":["sleep"]}}`), 0o600))
	shim, err := shimtest.Start(shimtest.Config{ID: "0123456789abcdef", Bundle: dir, StateDir: dir, Manager: h.cfg.ShimSocket})
	require.NoError(t, err)
	<-shim.Done()
	require.True(t, shim.Aborted())

	_, err = h.shimAPI.Register(ctxT(t), proto.Register{ID: "nope", Pid: 1, Control: "/x", State: proto.StateReady})
	require.Equal(t, http.StatusNotFound, api.StatusOf(err))
	require.Equal(t, proto.UnknownContainer, err.Error(), "the exact words shims abort on")
}

// TestFollowLogsAcrossRotation: a follower keeps reading when the shim
// rotates container.log to container.log.1 and starts a new one.
func TestFollowLogsAcrossRotation(t *testing.T) {
	h := newHarness(t, "none")
	c := h.create("", "sleep")
	logPath := filepath.Join(h.cfg.StateDir, "containers", c.ID, "container.log")
	logs, err := h.client.Logs(ctxT(t), c.ID, true)
	require.NoError(t, err)
	defer logs.Close()

	write := func(line string) {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		require.NoError(t, err)
		_, err = f.WriteString(line)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	read := func(n int) string {
		buf := make([]byte, n)
		_, err := io.ReadFull(logs, buf)
		require.NoError(t, err)
		return string(buf)
	}
	write("one\n")
	require.Equal(t, "one\n", read(4))
	require.NoError(t, os.Rename(logPath, logPath+".1"))
	write("two\n")
	require.Equal(t, "two\n", read(4))

	// The shim reports DEAD after its last output: the stream ends there.
	write("three\n")
	require.NoError(t, h.shimOf(c.ID).Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateDead, ExitStatus: proto.ExitStatus{ExitCode: 1}, Seq: 1}))
	rest, err := io.ReadAll(logs)
	require.NoError(t, err)
	require.Equal(t, "three\n", string(rest))
}
