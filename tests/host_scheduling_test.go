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

// cmrun and cmshim raise their timer slack for the Go runtime's sake, and
// cmrun keeps its threads on one CPU (nsexec/timer_slack.go, one_cpu.c);
// what they start must get the caller's slack and every CPU back. These
// tests start cm from a thread with a slack no process has by chance.

// hostSlackNs is that slack: whoever shows it got it from the test, through cm.
const hostSlackNs = 77777

var hostSlack = strconv.Itoa(hostSlackNs)

// cmTimerSlack is the slack cmrun and cmshim give themselves (nsexec.c).
const cmTimerSlack = "2000000"

// schedulingLine prints a process's timer slack and CPU list ("77777 0-1").
const schedulingLine = `echo $(cat /proc/self/timerslack_ns) $(grep Cpus_allowed_list /proc/self/status | cut -f2)`

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

// withCPU runs start, which starts a process, from a thread allowed on
// cpu alone: the process and all it starts inherit that.
func withCPU(t *testing.T, cpu int, start func()) {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	var old, one unix.CPUSet
	require.NoError(t, unix.SchedGetaffinity(0, &old))
	one.Set(cpu)
	require.NoError(t, unix.SchedSetaffinity(0, &one))
	defer unix.SchedSetaffinity(0, &old)
	start()
}

func timerSlackOf(t *testing.T, pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "timerslack_ns"))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

// cpusOf reads the CPU list of a process ("self" or a pid), as "0-1".
func cpusOf(t *testing.T, pid string) string {
	status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
	require.NoError(t, err)
	for line := range strings.Lines(string(status)) {
		if cpus, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(cpus)
		}
	}
	t.Fatalf("no Cpus_allowed_list in /proc/%s/status", pid)
	return ""
}

// onlineCPUs is the kernel's list of online CPUs. cmrun pins itself only
// when it was started with all of them, which the test process is: it
// checks that first.
func onlineCPUs(t *testing.T) string {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	require.NoError(t, err)
	online := strings.TrimSpace(string(data))
	if !strings.ContainsAny(online, "-,") {
		t.Skip("one CPU online: cmrun has nothing to pin")
	}
	require.Equal(t, online, cpusOf(t, "self"), "the test must start cmrun with every online CPU")
	return online
}

// TestCmrunHostScheduling checks that cmrun runs
// with its own timer slack, all its threads on one CPU, and that nothing
// it starts inherits either: the container's program, a process exec'd
// into it, and hooks on both sides of the container's root get the slack
// cmrun was started with, and every CPU.
func TestCmrunHostScheduling(t *testing.T) {
	online := onlineCPUs(t)
	e := newEnv(t)
	out := t.TempDir()
	bundle := e.bundle(func(s *specs.Spec) {
		s.Root.Readonly = false
		// The prestart hook also reads the CPUs of cmrun's threads, its
		// parent's; the pause lets cmrun pin back the thread it forked from.
		prestart := "sleep 0.2; grep -h Cpus_allowed_list /proc/$PPID/task/*/status | cut -f2 > " + filepath.Join(out, "cmrun") +
			"; " + schedulingLine + " > " + filepath.Join(out, "prestart")
		s.Hooks = &specs.Hooks{
			Prestart:       []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", prestart}}},
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", schedulingLine + " > /tmp/startContainer"}}},
		}
	}, "sh", "-c", schedulingLine+" > /tmp/program; exec sleep 600")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })

	run := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "run", "--bundle", bundle, id)
	withTimerSlack(t, func() { require.NoError(t, run.Start()) })
	waited := make(chan error, 1)
	go func() { waited <- run.Wait() }()
	program := filepath.Join(bundle, "rootfs/tmp/program")
	require.Eventually(t, func() bool { _, err := os.Stat(program); return err == nil }, waitLong, 10*time.Millisecond)

	require.Equal(t, cmTimerSlack, timerSlackOf(t, run.Process.Pid), "cmrun run itself")
	data, err := os.ReadFile(filepath.Join(out, "cmrun"))
	require.NoError(t, err)
	threads := strings.Fields(string(data))
	require.GreaterOrEqual(t, len(threads), 2, "cmrun's threads")
	for _, cpus := range threads {
		require.NotContains(t, cpus, "-", "a thread of cmrun may run on several CPUs")
		require.NotContains(t, cpus, ",", "a thread of cmrun may run on several CPUs")
		require.Equal(t, threads[0], cpus, "cmrun's threads are on different CPUs")
	}

	host := hostSlack + " " + online
	var r result
	withTimerSlack(t, func() { r = e.cmrun("exec", id, "sh", "-c", schedulingLine) })
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, host, strings.TrimSpace(r.stdout), "cmrun exec's process")
	for name, file := range map[string]string{
		"the container's program": program,
		"prestart hook":           filepath.Join(out, "prestart"),
		"startContainer hook":     filepath.Join(bundle, "rootfs/tmp/startContainer"),
	} {
		data, err := os.ReadFile(file)
		require.NoError(t, err, name)
		require.Equal(t, host, strings.TrimSpace(string(data)), name)
	}

	require.Equal(t, 0, e.cmrun("kill", id, "KILL").code)
	<-waited
	e.requireNoLeftovers(id, bundle)
}

// TestCmrunKeepsTheCallersCPUs checks that a caller who chose cmrun's
// CPUs keeps that choice: cmrun then pins nothing, and the container's
// program inherits the caller's CPU, as it would under runc.
func TestCmrunKeepsTheCallersCPUs(t *testing.T) {
	onlineCPUs(t)
	e := newEnv(t)
	bundle := e.bundle(nil, "sh", "-c", "grep Cpus_allowed_list /proc/self/status | cut -f2")
	for _, cpu := range []int{0, 1} {
		var r result
		withCPU(t, cpu, func() { r = e.run(bundle) })
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, itoa(cpu), strings.TrimSpace(r.stdout), "the program of a cmrun started on CPU %d alone", cpu)
	}
}

// TestManagerHostScheduling checks the same through
// the daemon: a shim, which starts itself again as a daemon, runs with
// cm's slack but on every CPU (it lives as long as its container), and
// the container's program and an exec'd process get the daemon's slack.
func TestManagerHostScheduling(t *testing.T) {
	online := onlineCPUs(t)
	var m *managerProc
	withTimerSlack(t, func() { m = startManager(t, t.TempDir()) })
	ct := m.run("sleep", "1000")
	require.Equal(t, hostSlack, timerSlackOf(t, m.cmd.Process.Pid), "cmanagerd links no nsexec")
	require.Equal(t, cmTimerSlack, timerSlackOf(t, ct.ShimPid), "cmshim")
	require.Equal(t, online, cpusOf(t, itoa(ct.ShimPid)), "cmshim")
	require.Equal(t, hostSlack, timerSlackOf(t, ct.Pid), "the container's program")
	require.Equal(t, online, cpusOf(t, itoa(ct.Pid)), "the container's program")
	r := m.cmctlIn("", "exec", ct.ID, "sh", "-c", schedulingLine)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, hostSlack+" "+online, strings.TrimSpace(r.stdout), "an exec'd process")
}
