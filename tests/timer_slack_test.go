package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// hostSlackNs is a timer slack no process has by chance: whoever shows it
// got it from the test, through cm.
const hostSlackNs = 77777

var hostSlack = strconv.Itoa(hostSlackNs)

// cmTimerSlack is the slack cmrun and cmshim give themselves (nsexec.c).
const cmTimerSlack = "2000000"

// withTimerSlack runs start, which starts a process, from a thread whose
// timer slack is hostSlack: the process and all it starts inherit that.
func withTimerSlack(t *testing.T, start func()) {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	require.NoError(t, err)
	require.NoError(t, unix.Prctl(unix.PR_SET_TIMERSLACK, hostSlackNs, 0, 0, 0))
	defer unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0)
	start()
}

func timerSlackOf(t *testing.T, pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "timerslack_ns"))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// TestTimerSlackIsTheHosts checks that cmrun runs with the timer slack it
// raises for the Go runtime, and that nothing it starts inherits it: the
// container's program, a process exec'd into it, and hooks on both sides
// of the container's root get the slack cmrun was started with.
func TestTimerSlackIsTheHosts(t *testing.T) {
	e := newEnv(t)
	out := t.TempDir()
	bundle := e.bundle(func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Hooks = &specs.Hooks{
			Prestart:       []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > " + filepath.Join(out, "prestart")}}},
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat /proc/self/timerslack_ns > /tmp/startContainer"}}},
		}
	}, "sh", "-c", "cat /proc/self/timerslack_ns > /tmp/program; exec sleep 600")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })

	run := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "run", "--bundle", bundle, id)
	withTimerSlack(t, func() { require.NoError(t, run.Start()) })
	waited := make(chan error, 1)
	go func() { waited <- run.Wait() }()
	program := filepath.Join(bundle, "rootfs/tmp/program")
	require.Eventually(t, func() bool { _, err := os.Stat(program); return err == nil }, waitLong, 10*time.Millisecond)

	require.Equal(t, cmTimerSlack, timerSlackOf(t, run.Process.Pid), "cmrun run itself")
	var r result
	withTimerSlack(t, func() { r = e.cmrun("exec", id, "cat", "/proc/self/timerslack_ns") })
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, hostSlack, strings.TrimSpace(r.stdout), "cmrun exec's process")
	for name, file := range map[string]string{
		"the container's program": program,
		"prestart hook":           filepath.Join(out, "prestart"),
		"startContainer hook":     filepath.Join(bundle, "rootfs/tmp/startContainer"),
	} {
		data, err := os.ReadFile(file)
		require.NoError(t, err, name)
		require.Equal(t, hostSlack, strings.TrimSpace(string(data)), name)
	}

	require.Equal(t, 0, e.cmrun("kill", id, "KILL").code)
	<-waited
	e.requireNoLeftovers(id, bundle)
}

// TestManagerTimerSlackIsTheHosts checks the same through the daemon: a
// shim, which starts itself again as a daemon, runs with cm's slack, and
// the container's program and an exec'd process with the daemon's.
func TestManagerTimerSlackIsTheHosts(t *testing.T) {
	var m *managerProc
	withTimerSlack(t, func() { m = startManager(t, t.TempDir()) })
	ct := m.run("sleep", "1000")
	require.Equal(t, hostSlack, timerSlackOf(t, m.cmd.Process.Pid), "cmanagerd links no nsexec")
	require.Equal(t, cmTimerSlack, timerSlackOf(t, ct.ShimPid), "cmshim")
	require.Equal(t, hostSlack, timerSlackOf(t, ct.Pid), "the container's program")
	r := m.cmctlIn("", "exec", ct.ID, "cat", "/proc/self/timerslack_ns")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, hostSlack, strings.TrimSpace(r.stdout), "an exec'd process")
}
