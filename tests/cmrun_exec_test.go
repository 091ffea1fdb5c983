package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/tests/fixture"
)

// TestExec runs processes inside a running container: they share its
// namespaces and cgroup, get the configured identity, and their exit
// codes come back.
func TestExec(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) { s.Hostname = "exec-box" }, "sleep", "300")
	id, _ := e.detached(bundle)
	initPid := e.state(id).Pid

	tests := []struct {
		name string
		args []string
		want string
		code int
	}{
		{"same namespaces", []string{id, "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '"}, "exec-box\nsleep 300", 0},
		{"exit code", []string{id, "sh", "-c", "exit 9"}, "", 9},
		{"env, cwd and user", []string{"--cwd", "/tmp", "-e", "GREETING=hi there", "-u", "1000:1001", "-g", "5", id, "sh", "-c", "pwd; echo $GREETING; id -u; id -G"},
			"/tmp\nhi there\n1000\n1001 5", 0},
		{"capabilities of the config, plus --cap", []string{"--cap", "CAP_CHOWN", id, "grep", "CapEff", "/proc/self/status"},
			"CapEff:\t" + capMask(t, []string{"CAP_CHOWN", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}), 0},
		{"missing program", []string{id, "no-such-program"}, "", 255}, // runc's code for an exec that failed
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			r := e.cmrun(append([]string{"exec"}, tc.args...)...)
			require.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			require.Equal(t, tc.want, strings.TrimSpace(r.stdout), "stderr: %s", r.stderr)
		})
	}

	// The exec'd process is in the container's cgroup, detached, with a pid file.
	pidFile := filepath.Join(e.dir, "exec.pid")
	r := e.cmrun("exec", "--detach", "--pid-file", pidFile, id, "sleep", "200")
	require.Equal(t, 0, r.code, r.stderr)
	pid, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{itoa(initPid), string(pid)}, fixture.ProcessesInCgroup(id))

	// --process takes a whole OCI process object.
	proc := specs.Process{Args: []string{"sh", "-c", "echo from-process-file $X"}, Env: []string{"X=1"}, Cwd: "/"}
	data, _ := json.Marshal(proc)
	procFile := filepath.Join(e.dir, "process.json")
	require.NoError(t, os.WriteFile(procFile, data, 0o644))
	r = e.cmrun("exec", "--process", procFile, id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "from-process-file 1", strings.TrimSpace(r.stdout))

	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
	e.requireNoLeftovers(id, bundle)
}

func TestExecBadInput(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(nil, "true")
	stopped, _ := e.detached(bundle)
	require.Eventually(t, func() bool { return e.state(stopped).Status == specs.StateStopped }, waitLong, tick)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown container", []string{"nope", "true"}, `container "nope" does not exist`},
		{"stopped container", []string{stopped, "true"}, "that is stopped: container not running"},
		{"no command", []string{stopped}, "exec: missing command"},
		{"unsupported flag", []string{"--apparmor", "x", stopped, "true"}, "exec: --apparmor is not supported by cmrun"},
		{"bad user", []string{"-u", "root", stopped, "true"}, `exec: --user "root": want UID[:GID] as numbers`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			requireOneLineError(t, e.cmrun(append([]string{"exec"}, tc.args...)...), tc.want)
		})
	}
	require.Equal(t, 0, e.cmrun("delete", stopped).code)
	e.requireNoLeftovers(stopped, bundle)
}
