package tests

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/stretchr/testify/require"
)

// notifyScript asks the agent's two answers: mkdir "succeeds" without a
// directory being made, rmdir fails with the agent's EXDEV.
const notifyScript = "mkdir /tmp/made; echo mkdir=$?; test -e /tmp/made && echo made || echo not made; rmdir /tmp 2>&1; echo rmdir=$?"

const notifyOutput = "mkdir=0\nnot made\nrmdir: '/tmp': Invalid cross-device link\nrmdir=1\n"

// notifyProfile sends mkdir, mkdirat and rmdir to the agent at path.
func notifyProfile(path string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: path, ListenerMetadata: "cm-test-metadata",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat", "rmdir"}, Action: specs.ActNotify}}}
}

// requireAgentMessage checks one message the agent got: the runtime-spec's
// container process state, for process pid of container id, with one fd.
func requireAgentMessage(t *testing.T, m agentMessage, id, bundle string, pid, initPid int, status specs.ContainerState) {
	t.Helper()
	require.Equal(t, 1, m.Fds, "the listener must come attached")
	st := m.State
	require.Equal(t, specs.Version, st.Version)
	require.Equal(t, []string{specs.SeccompFdName}, st.Fds)
	require.Equal(t, pid, st.Pid, "pid of the process under the filter")
	require.Equal(t, "cm-test-metadata", st.Metadata)
	require.Equal(t, id, st.State.ID)
	require.Equal(t, status, st.State.Status)
	require.Equal(t, initPid, st.State.Pid)
	require.Equal(t, bundle, st.State.Bundle)
}

// TestSeccompNotify: SCMP_ACT_NOTIFY calls are answered by the agent at
// listenerPath, which "cmrun create" gave the listener along with the
// state, as runc does; with and without no_new_privs (the filter is
// loaded at a different point of the init), and from a user namespace
// (the listener is copied out of an init that is not root on the host).
func TestSeccompNotify(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*specs.Spec)
	}{
		{"noNewPrivileges=true", func(s *specs.Spec) { s.Process.NoNewPrivileges = true }},
		{"noNewPrivileges=false", func(s *specs.Spec) { s.Process.NoNewPrivileges = false }},
		{"user namespace", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = s.Linux.UIDMappings
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			agent := startSeccompAgent(t, e.dir)
			bundle := e.bundle(func(s *specs.Spec) {
				tc.edit(s)
				s.Linux.Seccomp = notifyProfile(agent.path)
			}, "sh", "-c", notifyScript)
			id := e.newID()
			t.Cleanup(func() { e.forceDelete(id) })
			out := e.tempFile()
			defer out.Close()
			r := e.cmrunWithStdout(out, "create", "--bundle", bundle, id)
			require.Equal(t, 0, r.code, r.stderr)
			pid := e.state(id).Pid
			// Sent during create, before the container's program runs.
			requireAgentMessage(t, agent.next(), id, bundle, pid, pid, specs.StateCreating)

			r = e.cmrun("start", id)
			require.Equal(t, 0, r.code, r.stderr)
			require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
			require.Equal(t, notifyOutput, readBack(out))
			r = e.cmrun("delete", id)
			require.Equal(t, 0, r.code, r.stderr)
		})
	}
}

// TestSeccompNotifyExec: a process of "cmrun exec" gets the container's
// filter with a listener of its own, which the agent receives with the
// process's pid and the container's state.
func TestSeccompNotifyExec(t *testing.T) {
	e := newEnv(t)
	agent := startSeccompAgent(t, e.dir)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.Seccomp = notifyProfile(agent.path)
	}, "sleep", "1000")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	r := e.cmrun("run", "--detach", "--bundle", bundle, id)
	require.Equal(t, 0, r.code, r.stderr)
	initPid := e.state(id).Pid
	requireAgentMessage(t, agent.next(), id, bundle, initPid, initPid, specs.StateCreating)

	pidFile := filepath.Join(e.dir, "exec.pid")
	r = e.cmrun("exec", "--pid-file", pidFile, id, "sh", "-c", notifyScript)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, notifyOutput, r.stdout)
	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	execPid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	require.NotEqual(t, initPid, execPid)
	requireAgentMessage(t, agent.next(), id, bundle, execPid, initPid, specs.StateRunning)
}

// TestSeccompNotifyBadInput: a notify profile without an agent to send
// the listener to fails create with one line, and leaves nothing behind.
func TestSeccompNotifyBadInput(t *testing.T) {
	e := newEnv(t)
	nobody := filepath.Join(e.dir, "nobody.sock")
	e.requireCreateFails([]badConfig{
		{
			name: "listenerPath missing",
			edit: func(s *specs.Spec) {
				s.Linux.Seccomp = notifyProfile("")
			},
			want: "linux.seccomp.listenerPath: missing: syscalls[0] uses SCMP_ACT_NOTIFY, which needs a seccomp agent listening there",
		},
		{
			name: "nobody listens at listenerPath",
			edit: func(s *specs.Spec) { s.Linux.Seccomp = notifyProfile(nobody) },
			want: "linux.seccomp.listenerPath " + nobody + ": connect to the seccomp agent: no such file or directory",
		},
		{
			name: "notify as the default action",
			edit: func(s *specs.Spec) {
				s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: nobody}
			},
			want: "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
		},
		{
			name: "notify on write",
			edit: func(s *specs.Spec) {
				s.Linux.Seccomp = notifyProfile(nobody)
				s.Linux.Seccomp.Syscalls[0].Names = append(s.Linux.Seccomp.Syscalls[0].Names, "write")
			},
			want: "linux.seccomp.syscalls[0].names[3]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
		},
	})
}

// TestRuncCompatSeccompNotify: the same bundle and the same agent give
// the same answers in runc and cmrun, and the agent the same message.
func TestRuncCompatSeccompNotify(t *testing.T) {
	p := newPair(t)
	agent := startSeccompAgent(t, p.e.dir)
	bundle := p.bundle(func(s *specs.Spec) {
		s.Linux.Seccomp = notifyProfile(agent.path)
	}, "sh", "-c", notifyScript)
	id := p.e.newID()
	t.Cleanup(func() {
		p.runc("delete", "--force", runcID(id))
		p.e.forceDelete(id)
	})
	r := p.runc("run", "--bundle", bundle, runcID(id))
	require.Equal(t, 0, r.code, "runc: %s", r.stderr)
	fromRunc := agent.next()
	c := p.e.cmrun("run", "--bundle", bundle, id)
	require.Equal(t, 0, c.code, "cmrun: %s", c.stderr)
	fromCmrun := agent.next()
	require.Equal(t, notifyOutput, r.stdout, "runc")
	require.Equal(t, r.stdout, c.stdout)

	require.Equal(t, fromRunc.Fds, fromCmrun.Fds)
	rs, cs := fromRunc.State, fromCmrun.State
	require.Equal(t, runcID(id), rs.State.ID)
	require.Equal(t, id, cs.State.ID)
	require.Equal(t, rs.Fds, cs.Fds)
	require.Equal(t, rs.Metadata, cs.Metadata)
	require.Equal(t, rs.State.Status, cs.State.Status)
	require.Equal(t, rs.State.Bundle, cs.State.Bundle)
	require.Equal(t, rs.Pid, rs.State.Pid, "runc: the init is the process under the filter")
	require.Equal(t, cs.Pid, cs.State.Pid, "cmrun: the init is the process under the filter")
}

// TestRuncCompatSeccompNotifyBadInput: without an agent, both runtimes
// fail alike, with one line naming the listener, and keep no container.
func TestRuncCompatSeccompNotifyBadInput(t *testing.T) {
	p := newPair(t)
	// A socket file whose listener is gone: connect is refused.
	dead := filepath.Join(p.e.dir, "dead.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: dead, Net: "unix"})
	require.NoError(t, err)
	ln.SetUnlinkOnClose(false)
	ln.Close()
	for _, tc := range []struct {
		name, path, runcWants, cmrunWants string
	}{
		{"listenerPath missing", "", "listenerPath is not set", "linux.seccomp.listenerPath: missing"},
		{"no socket", filepath.Join(p.e.dir, "nobody.sock"), "connect: no such file or directory", "connect to the seccomp agent: no such file or directory"},
		{"nobody listens", dead, "connect: connection refused", "connect to the seccomp agent: connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := p.bundle(func(s *specs.Spec) { s.Linux.Seccomp = notifyProfile(tc.path) }, "sh", "-c", notifyScript)
			id := p.e.newID()
			t.Cleanup(func() {
				p.runc("delete", "--force", runcID(id))
				p.e.forceDelete(id)
			})
			r, c := p.both(id, "run", "--bundle", bundle, id)
			sameCode(t, r, c, "run")
			requireOneLineError(t, r, tc.runcWants)
			requireOneLineError(t, c, tc.cmrunWants)
			require.NotEqual(t, 0, p.runc("state", runcID(id)).code, "runc kept the container")
			p.e.requireNoLeftovers(id, bundle)
		})
	}
}

// TestRuncCompatFeaturesSeccompActions: "features" lists the same
// seccomp actions as runc 1.1.5's, SCMP_ACT_NOTIFY included.
func TestRuncCompatFeaturesSeccompActions(t *testing.T) {
	p := newPair(t)
	actions := func(r result) []string {
		require.Equal(t, 0, r.code, r.stderr)
		var f features.Features
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &f))
		return f.Linux.Seccomp.Actions
	}
	fromRunc, fromCmrun := actions(p.runc("features")), actions(p.e.cmrun("features"))
	require.Contains(t, fromCmrun, string(specs.ActNotify))
	require.Equal(t, fromRunc, fromCmrun)
}
