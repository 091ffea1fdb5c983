package shim_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime"
	"cm/shim"
	"cm/shim/proto"
)

// TestLifecycle: READY after create, RUNNING after the control start,
// DEAD with the exit code, heartbeats meanwhile.
func TestLifecycle(t *testing.T) {
	const interval = 100 * time.Millisecond
	e := newEnv(t, interval)
	// The program waits for a file the test creates, so the test decides
	// when it exits and can count heartbeats while it runs.
	bundle := e.bundle(nil, "sh", "-c", "while [ ! -e /dev/shm/go ]; do sleep 0.05; done; exit 3")
	p := e.launch(bundle)

	regs := waitRegistered(t, e.manager, 1)
	require.Equal(t, p.id, regs[0].ID)
	require.Equal(t, p.pid, regs[0].Pid)
	comm, err := os.ReadFile(filepath.Join("/proc", itoa(p.pid), "comm"))
	require.NoError(t, err)
	require.Equal(t, "cmshim\n", string(comm), "what ps calls the shim daemon")
	require.Equal(t, filepath.Join(p.stateDir, proto.ControlSocket), regs[0].Control)
	require.Equal(t, proto.StateReady, regs[0].State)
	ready := e.manager.waitReport(proto.StateReady)
	require.Positive(t, ready.Pid)

	initPid := p.start(t)
	require.Equal(t, ready.Pid, initPid)
	running := e.manager.waitReport(proto.StateRunning)
	require.Equal(t, initPid, running.Pid)

	// Heartbeats: at 100ms, a few must arrive within seconds (generous
	// bounds: only "they come, repeatedly" is checked, not the timing).
	require.Eventually(t, func() bool {
		_, _, hb := e.manager.snapshot()
		return hb >= 3
	}, waitLong, tick, "heartbeats do not arrive")

	require.NoError(t, os.WriteFile(filepath.Join("/proc", itoa(initPid), "root/dev/shm/go"), nil, 0o644))
	dead := e.manager.waitReport(proto.StateDead)
	require.Equal(t, 3, dead.ExitCode)
	require.Equal(t, 0, dead.Signal)
	require.False(t, dead.OOMKilled)
	require.Equal(t, []proto.State{proto.StateReady, proto.StateRunning, proto.StateDead}, e.manager.states())

	// The exit status is on disk too.
	st, err := shim.ReadStatus(p.stateDir)
	require.NoError(t, err)
	require.Equal(t, proto.StateDead, st.State)
	require.Equal(t, 3, st.ExitCode)

	// Delete: the shim removes the container and its own files, and exits.
	require.NoError(t, p.control.Delete(t.Context(), false))
	require.Eventually(t, p.exited, waitLong, tick, "shim did not exit after delete")
	_, err = os.Stat(p.stateDir)
	require.True(t, os.IsNotExist(err), "state dir left behind")
	_, err = os.Stat(filepath.Join(e.rtRoot, p.id))
	require.True(t, os.IsNotExist(err), "runtime state left behind")
}

func waitRegistered(t *testing.T, m *fakeManager, n int) []proto.Register {
	t.Helper()
	var regs []proto.Register
	require.Eventually(t, func() bool {
		regs, _, _ = m.snapshot()
		return len(regs) >= n
	}, waitLong, tick, "shim did not register %d times", n)
	return regs
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestExitStatus: how the init ended reaches the manager: exit code,
// signal, OOM kill.
func TestExitStatus(t *testing.T) {
	memoryLimit := func(s *specs.Spec) {
		limit := int64(32 << 20)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit}
	}
	tests := []struct {
		name   string
		edit   func(*specs.Spec)
		script string
		want   proto.ExitStatus
	}{
		{name: "exit code", script: "exit 5", want: proto.ExitStatus{ExitCode: 5}},
		// Without a PID namespace: PID 1 of one cannot kill itself.
		{name: "signal", edit: noPidNS, script: "kill -TERM $$", want: proto.ExitStatus{ExitCode: 143, Signal: 15}},
		// tail keeps everything of a file without newlines in memory.
		{name: "OOM kill", edit: memoryLimit, script: "exec tail /dev/zero", want: proto.ExitStatus{ExitCode: 137, Signal: 9, OOMKilled: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Second)
			p := e.launch(e.bundle(tc.edit, "sh", "-c", tc.script))
			p.start(t)
			require.Equal(t, tc.want, e.manager.waitReport(proto.StateDead).ExitStatus)
		})
	}
}

// TestLaunchFails: when the daemon cannot create the container, cmshim
// prints why in one line and exits 1.
func TestLaunchFails(t *testing.T) {
	e := newEnv(t, time.Second)
	good := e.bundle(nil, "sleep", "1000")
	running := e.launch(good)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no bundle", args: []string{"--id", "fail-1", "--bundle", filepath.Join(e.dir, "nope"), "--state-dir", filepath.Join(e.dir, "fail-1")}, want: "no config.json"},
		{name: "state dir in use", args: []string{"--id", "fail-2", "--bundle", good, "--state-dir", running.stateDir}, want: "another shim is listening"},
		{name: "missing id", args: []string{"--bundle", good, "--state-dir", filepath.Join(e.dir, "fail-3")}, want: "--id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(filepath.Join(binDir, "cmshim"), append(tc.args, "--manager", e.manager.path, "--runtime-root", e.rtRoot)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.Error(t, err, "stdout: %s", out)
			require.Empty(t, string(out))
			msg := strings.TrimSpace(stderr.String())
			require.Len(t, strings.Split(msg, "\n"), 1, "one line: %q", msg)
			require.Contains(t, msg, tc.want)
		})
	}
}

// TestTokenFd: cmshim run by hand with --token-fd passes the token on to
// the daemon it starts, which sends it with every message.
func TestTokenFd(t *testing.T) {
	e := newEnv(t, 100*time.Millisecond)
	id := fmt.Sprintf("shimt-%d-token", os.Getpid())
	stateDir := filepath.Join(e.dir, id)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	_, err = w.WriteString("s3cret-token\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	cmd := exec.Command(filepath.Join(binDir, "cmshim"), "--token-fd", "3", "--id", id, "--bundle", e.bundle(nil, "sleep", "1000"),
		"--state-dir", stateDir, "--manager", e.manager.path, "--runtime-root", e.rtRoot)
	cmd.ExtraFiles = []*os.File{r} // fd 3
	out, err := cmd.Output()
	r.Close()
	require.NoError(t, err, "%s", stderrOf(err))
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(t, err, "cmshim printed %q", out)
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		runtime.Delete(e.rtRoot, id, true)
	})

	e.manager.waitReport(proto.StateReady)
	require.Eventually(t, func() bool { _, _, hb := e.manager.snapshot(); return hb > 0 }, waitLong, tick, "no heartbeat")
	e.manager.mu.Lock()
	auths := append([]string(nil), e.manager.auths...)
	e.manager.mu.Unlock()
	require.NotEmpty(t, auths)
	for _, a := range auths {
		require.Equal(t, "Bearer s3cret-token", a)
	}
	require.NoError(t, shim.NewControlClient(filepath.Join(stateDir, proto.ControlSocket)).Delete(context.Background(), true))
}
