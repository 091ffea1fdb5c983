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
// It returns the status and body the daemon answered. With a token, it
// sends it as the shim would.
func forge(t *testing.T, h *harness, path, body string, token ...string) (int, string) {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self)
	cmd.Env = []string{peerHelperEnv + "=" + h.cfg.ShimSocket, peerPathEnv + "=" + path, peerBodyEnv + "=" + body}
	if len(token) > 0 {
		cmd.Env = append(cmd.Env, peerTokenEnv+"="+token[0])
	}
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

// TestShimAuthRefusals: what the shim socket says to each way of not
// being the container's shim, and to its shim with a wrong control socket.
func TestShimAuthRefusals(t *testing.T) {
	h := newHarness(t, "none")
	a, b := h.create("a", "sleep").ID, h.create("b", "sleep").ID
	register := func(id, control string) string {
		return fmt.Sprintf(`{"id":%q,"pid":%d,"control":%q,"state":"READY"}`, id, os.Getpid(), control)
	}
	tests := []struct {
		name   string
		as     string // whose token is sent ("" none)
		path   string
		body   string
		status int
		want   string
	}{
		{"no token", "", "/v1/shim/heartbeat", `{"id":"` + a + `"}`, 403, "not the shim of container " + a + ": no shim token"},
		{"another container's token", b, "/v1/shim/report", `{"id":"` + a + `","state":"DEAD","exitCode":42}`, 403, "not the shim of container " + a + ": wrong shim token"},
		{"another pid than the caller's", a, "/v1/shim/register", `{"id":"` + a + `","pid":1,"control":"` + h.control(a) + `","state":"READY"}`, 403, "pid 1 is not the caller's"},
		{"another control socket", a, "/v1/shim/register", register(a, h.control(b)), 400, "the shim of container " + a + " listens on " + h.control(a)},
		{"its own control socket", a, "/v1/shim/register", register(a, h.control(a)), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := h.shimAPI
			if tt.as != "" {
				cl = h.shimOf(tt.as)
			}
			status, body, err := cl.Raw(ctxT(t), "POST", tt.path, []byte(tt.body))
			require.NoError(t, err)
			require.Equal(t, tt.status, status, "%s", body)
			require.Contains(t, string(body), tt.want)
		})
	}
	require.Equal(t, manager.Ready, h.get(a).State, "only the last registration counted")
	require.Equal(t, os.Getpid(), h.get(a).ShimPid)
}

// TestLeakedTokenUselessElsewhere: even with the container's token, a
// process other than the shim that registered is refused.
func TestLeakedTokenUselessElsewhere(t *testing.T) {
	h := newHarness(t, "shim")
	id := h.running("victim")
	token := h.d.ShimToken(id)

	status, answer := forge(t, h, "/v1/shim/report", fmt.Sprintf(`{"id":%q,"state":"DEAD","exitCode":42,"seq":1000}`, id), token)
	require.Equal(t, 403, status, "%s", answer)
	require.Contains(t, answer, fmt.Sprintf("is not its shim (pid %d)", os.Getpid()))
	status, answer = forge(t, h, "/v1/shim/heartbeat", fmt.Sprintf(`{"id":%q}`, id), token)
	require.Equal(t, 403, status, "%s", answer)
	require.Equal(t, manager.Running, h.get(id).State)
}
