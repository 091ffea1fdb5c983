package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/tests/fixture"
)

// The attacks of CVE-2016-9962: a process already in the container reads
// /proc/PID/fd and /proc/PID/mem of a runtime process that has joined the
// container but not yet exec'd the user's program. Such a process still
// holds what the host gave it, and before execve nothing but dumpability
// keeps the container's root (same uid, same capabilities) out. The
// runtime's process must stay non-dumpable until the kernel decides
// afresh at execve.

// hostSecret makes a host directory the container cannot see, with one
// file in it, and returns the directory opened: the fd the host passes.
func hostSecret(t *testing.T, e *env) (*os.File, string) {
	dir := filepath.Join(e.dir, "host-only")
	require.NoError(t, os.Mkdir(dir, 0o700))
	secret := fmt.Sprintf("host-secret-%d", os.Getpid())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600))
	f, err := os.Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f, secret
}

// TestCreatedInitNotReachable: the init of a created container waits on
// the exec fifo, with its capabilities already dropped and the host's
// preserved fd and the cmrun binary still open. A process exec'd into the
// container (root, the same capabilities) tries its fds, exe and memory.
func TestCreatedInitNotReachable(t *testing.T) {
	e := newEnv(t)
	dir, secret := hostSecret(t, e)
	bundle := e.bundle(nil, "true")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	out := e.tempFile()
	defer out.Close()
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "create", "--preserve-fds", "1", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, out, []*os.File{dir}
	require.NoError(t, cmd.Run(), readBack(out))
	require.Equal(t, specs.StateCreated, e.state(id).Status)

	attack := `tr '\0' ' ' </proc/1/cmdline; echo
cat /proc/1/fd/3/secret 2>/dev/null && echo LEAK-FD
readlink /proc/1/exe >/dev/null 2>&1 && echo LEAK-EXE
ls /proc/1/fd >/dev/null 2>&1 && for f in /proc/1/fd/*; do readlink $f >/dev/null 2>&1 && echo LEAK-FDLINK $f; done
true 2>/dev/null </proc/1/mem && echo LEAK-MEM
echo done`
	r := e.cmrun("exec", id, "sh", "-c", attack)
	require.Equal(t, 0, r.code, r.stderr)
	require.True(t, strings.HasPrefix(r.stdout, "cmrun init"), "the attack ran against the init before its execve: %q", r.stdout)
	require.Contains(t, r.stdout, "done")
	require.NotContains(t, r.stdout, secret, "the container read a host file through the init's fd")
	require.NotContains(t, r.stdout, "LEAK", "the container reached into the waiting init")

	// The init still works: it runs its program once started.
	require.Equal(t, 0, e.cmrun("start", id).code)
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	require.Equal(t, 0, e.cmrun("delete", id).code)
	e.requireNoLeftovers(id, bundle)
}

// execAttacker watches every new process of its container and, while
// the process is still "cmrun init" (before its execve), tries to read
// the host directory through its fd 3 and to open its memory. A success
// only counts when the process is still "cmrun init" after it: then the
// read happened before the execve, which cannot be undone.
const execAttacker = `
leak() { c=$(tr '\0' ' ' 2>/dev/null <$1/cmdline); case "$c" in "cmrun init"*) echo "$2 $1 $3";; esac; }
while [ ! -e /tmp/stop ]; do
	for d in /proc/[0-9]*; do
		case $d in /proc/1|/proc/$$) continue;; esac
		while [ -e $d/fd ]; do
			if read -r s 2>/dev/null <$d/fd/3/secret; then leak $d LEAK-FD "$s"; fi
			if true 2>/dev/null <$d/mem; then leak $d LEAK-MEM; fi
			c=$(tr '\0' ' ' 2>/dev/null <$d/cmdline)
			case "$c" in "cmrun init"*) echo "SEEN $d";; *) break;; esac
		done
	done
done
echo stopped
`

// TestExecNotReachableBeforeExecve: "cmrun exec" passes a host directory
// as fd 3 (--preserve-fds 1) while a root process in the container races
// to get at every exec'd process between the capability drop and execve;
// with and without a user namespace (where the container's root is a
// mapped uid, and the exec'd process joins the namespace).
func TestExecNotReachableBeforeExecve(t *testing.T) {
	tests := []struct {
		name string
		edit func(*specs.Spec)
	}{
		{"no user namespace", nil},
		{"user namespace", func(s *specs.Spec) { fixture.WithUserNamespace(s, 100000, 100000) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			dir, secret := hostSecret(t, e)
			bundle := e.bundle(tc.edit, "sh", "-c", execAttacker)
			id, log := e.detached(bundle)

			const rounds = 40
			for i := 0; i < rounds; i++ {
				out := e.tempFile()
				cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "exec", "--preserve-fds", "1", id,
					"sh", "-c", "exec 3<&-; true")
				cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, out, []*os.File{dir}
				err := cmd.Run()
				attackerLog, _ := os.ReadFile(log)
				require.NoError(t, err, "%s\nattacker: %s", readBack(out), attackerLog)
				out.Close()
			}
			require.NoError(t, os.WriteFile(filepath.Join(bundle, "rootfs/tmp/stop"), nil, 0o644))
			require.Eventually(t, func() bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), "stopped") }, waitLong, tick)
			data, err := os.ReadFile(log)
			require.NoError(t, err)
			result := string(data)
			t.Logf("attacker saw %d exec'd processes before their execve", strings.Count(result, "SEEN"))
			require.NotContains(t, result, secret, "the container read a host file through an exec'd process's fd")
			require.NotContains(t, result, "LEAK", "the container reached into an exec'd process before its execve")
		})
	}
}

// TestExecInheritsOnlyPreservedFds: the exec'd program gets stdio and the
// fds it was promised, none of cmrun's (init socket, cmrun binary).
func TestExecInheritsOnlyPreservedFds(t *testing.T) {
	e := newEnv(t)
	dir, _ := hostSecret(t, e)
	id, _ := e.detached(e.bundle(nil, "sleep", "300"))
	tests := []struct {
		preserve string
		want     string // ls's own directory fd is the last one
	}{
		{"0", "0 1 2 3"},
		{"1", "0 1 2 3 4"},
	}
	for _, tc := range tests {
		t.Run("preserve "+tc.preserve, func(t *testing.T) {
			out := e.tempFile()
			defer out.Close()
			cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "exec", "--preserve-fds", tc.preserve, id,
				"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '")
			cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, out, []*os.File{dir}
			require.NoError(t, cmd.Run(), readBack(out))
			require.Equal(t, tc.want, strings.TrimSpace(readBack(out)))
		})
	}
}
