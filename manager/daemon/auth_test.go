package daemon_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
)

// forge posts body to path on the shim socket from another process: this
// test binary run again as root, which is not the shim of any container.
// It returns the status and body the daemon answered.
func forge(t *testing.T, h *harness, path, body string) (int, string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self)
	cmd.Env = []string{peerHelperEnv + "=" + h.cfg.ShimSocket, peerPathEnv + "=" + path, peerBodyEnv + "=" + body}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	code, answer, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	status, err := strconv.Atoi(code)
	require.NoError(t, err, "%s", out)
	return status, answer
}

// running creates a container whose fake shim runs until killed, and
// starts it.
func (h *harness) running(name string) string {
	h.t.Helper()
	c := h.create(name, "sleep")
	h.waitState(c.ID, manager.Ready)
	_, err := h.client.Start(ctxT(h.t), c.ID)
	require.NoError(h.t, err)
	h.waitState(c.ID, manager.Running)
	return c.ID
}

// TestForgedDeadReportRefused: a root process that is not the shim says
// the container died with exit code 42 while it runs. The daemon refuses
// it (403) and the container stays RUNNING.
func TestForgedDeadReportRefused(t *testing.T) {
	h := newHarness(t, "shim")
	id := h.running("victim")

	status, answer := forge(t, h, "/v1/shim/report", fmt.Sprintf(`{"id":%q,"state":"DEAD","exitCode":42,"seq":1000}`, id))

	c := h.get(id)
	require.Equal(t, manager.Running, c.State, "the forged DEAD was applied: %+v", c)
	require.Zero(t, c.ExitCode)
	require.Equal(t, 403, status, "%s", answer)
	require.Contains(t, answer, "not the shim of container "+id)
	require.Equal(t, manager.Running, h.launcher.shim(id).State(), "the real workload runs on")
}

// TestForgedRegisterCannotRedirectKill: a root process that is not A's
// shim registers again for A, naming B's control socket. The daemon
// refuses it, and `kill A` reaches A's shim, never B's.
func TestForgedRegisterCannotRedirectKill(t *testing.T) {
	h := newHarness(t, "shim")
	a, b := h.running("a"), h.running("b")
	bControl := filepath.Join(h.cfg.StateDir, "containers", b, "shim.sock")

	status, answer := forge(t, h, "/v1/shim/register",
		fmt.Sprintf(`{"id":%q,"pid":%d,"control":%q,"state":"RUNNING"}`, a, os.Getpid(), bControl))

	_, err := h.client.Kill(ctxT(t), a, "KILL")
	require.NoError(t, err)
	require.Equal(t, manager.Running, h.launcher.shim(b).State(), "kill A reached B's shim")
	require.Equal(t, manager.Running, h.get(b).State)
	require.Equal(t, manager.Dead, h.waitState(a, manager.Dead).State)
	require.Equal(t, 403, status, "%s", answer)
	require.Contains(t, answer, "not the shim of container "+a)
}
