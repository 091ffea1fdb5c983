package cgroupfs

import (
	"errors"
	"fmt"
	"io"
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
	"golang.org/x/sys/unix"
)

// Checks shared by the real-host tests (real_test.go, this machine's v1 or
// hybrid layout) and the cgroup v2 VM tests (vmtest_test.go). Each one
// runs real processes in a real group and looks at what the kernel did.

const busybox = "/bin/busybox"

// waitLimit bounds waits for something the kernel or a process will do;
// it is a deadline for a hang, never a measured threshold.
const waitLimit = 30 * time.Second

// newRealGroup creates a group below the hierarchy roots, named after the
// test, and removes it (killing what is left) when the test ends.
func newRealGroup(t *testing.T, h *Host, name string) *group {
	t.Helper()
	g, err := h.Group(fmt.Sprintf("/cm-cgroupfs-test-%d-%s", os.Getpid(), name))
	require.NoError(t, err)
	require.NoError(t, g.Create())
	t.Cleanup(func() {
		require.NoError(t, g.KillAll(unix.SIGKILL))
		require.NoError(t, g.Destroy())
	})
	return g.(*group)
}

// proc is a busybox shell script running in a group.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // from Wait, once done is closed
	output string
}

// startInGroup runs script with busybox sh inside g. The shell first
// waits for a line on stdin, sent only after it joined the group, so the
// script never runs outside it.
func startInGroup(t *testing.T, g Group, script string) *proc {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "output"))
	require.NoError(t, err)
	cmd := exec.Command(busybox, "sh", "-c", "read go; "+script)
	// A file, not a pipe: background children of the script keep their
	// copy open, and Wait would block on a pipe until they die.
	cmd.Stdout, cmd.Stderr = out, out
	// Our own pipe, not StdinPipe: Wait closes that one when the shell
	// exits, and a quick script may exit before we close it ourselves.
	stdinR, stdin, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdin = stdinR
	require.NoError(t, cmd.Start())
	stdinR.Close()
	p := &proc{cmd: cmd, done: make(chan struct{}), output: out.Name()}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	require.NoError(t, g.Add(cmd.Process.Pid))
	_, err = io.WriteString(stdin, "go\n")
	require.NoError(t, err)
	require.NoError(t, stdin.Close())
	return p
}

// wait waits for the shell to end and returns how it ended.
func (p *proc) wait(t *testing.T) syscall.WaitStatus {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(waitLimit):
		t.Fatalf("process %d still running after %v", p.cmd.Process.Pid, waitLimit)
	}
	var exitErr *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exitErr) {
		t.Fatalf("wait: %v", p.err)
	}
	return p.cmd.ProcessState.Sys().(syscall.WaitStatus)
}

func (p *proc) readOutput(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.output)
	require.NoError(t, err)
	return string(b)
}

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkOOMKill: a 16 MiB limit gets a process that touches 64 MiB killed,
// and the kill is counted.
func checkOOMKill(t *testing.T, h *Host) {
	g := newRealGroup(t, h, "oom")
	mem := &specs.LinuxMemory{Limit: ptr(int64(16 << 20))}
	d, ok := g.dirOf("memory")
	require.True(t, ok, "memory controller")
	if fileExists(d.dir, "memory.memsw.limit_in_bytes") || fileExists(d.dir, "memory.swap.max") {
		// No swap either, or the process could page out instead of dying.
		mem.Swap = ptr(int64(16 << 20))
	}
	_, err := g.Apply(&specs.LinuxResources{Memory: mem})
	require.NoError(t, err)

	// dd reads /dev/zero into a 64 MiB buffer, touching every page.
	p := startInGroup(t, g, "exec "+busybox+" dd if=/dev/zero of=/dev/null bs=64M count=1")
	ws := p.wait(t)
	require.True(t, ws.Signaled(), "dd should be killed, ended with %v: %s", ws, p.readOutput(t))
	require.Equal(t, syscall.SIGKILL, ws.Signal())

	n, err := g.OOMKillCount()
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, uint64(1))
	s, err := g.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(16<<20), s.Memory.Limit)
	require.GreaterOrEqual(t, s.Memory.OOMKill, uint64(1))
}

// checkPidsLimit: with pids.limit 8 the shell plus 7 children fill the
// group, and the next fork fails.
func checkPidsLimit(t *testing.T, h *Host) {
	g := newRealGroup(t, h, "pids")
	_, err := g.Apply(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(8))}})
	require.NoError(t, err)

	// ash gives up on the first fork that fails: the script exits there,
	// leaving the children it did start.
	p := startInGroup(t, g, "i=0; while [ $i -lt 20 ]; do sleep 1000 & i=$((i+1)); done; echo all 20 forked")
	ws := p.wait(t)
	out := p.readOutput(t)
	require.NotContains(t, out, "all 20 forked")
	require.Contains(t, out, "can't fork")
	require.NotEqual(t, 0, ws.ExitStatus())

	pids, err := g.Pids()
	require.NoError(t, err)
	require.Len(t, pids, 7, "8 tasks allowed: the shell and 7 children")
	s, err := g.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(8), s.Pids.Limit)
	require.Equal(t, uint64(7), s.Pids.Current)
}

// checkCPUQuota: a busy loop limited to 10ms per 100ms is throttled and,
// by the kernel's own count, uses about its quota per period.
func checkCPUQuota(t *testing.T, h *Host) {
	limited := newRealGroup(t, h, "cpu-limited")
	const quota = 10 * time.Millisecond
	_, err := limited.Apply(&specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(quota / time.Microsecond)), Period: ptr(uint64(100000))}})
	require.NoError(t, err)

	// One loop, the limited one: no unlimited loop competes with the test
	// for the CPUs (in a 2-CPU VM two loops starved the test itself), and
	// no time window is measured. The kernel's own accounting is checked
	// instead, which no load on the machine can make fail: the loop hit
	// its quota, and over the periods counted it never used much more than
	// the quota per period.
	startInGroup(t, limited, "while :; do :; done")
	stats := func() *Stats {
		s, err := limited.Stats()
		require.NoError(t, err)
		return s
	}
	eventually(t, "the loop to be throttled 5 times", func() bool { return stats().CPU.ThrottledPeriods >= 5 })
	s := stats()
	t.Logf("CPU used %v in %d periods, %d throttled", time.Duration(s.CPU.UsageNanos), s.CPU.Periods, s.CPU.ThrottledPeriods)
	// The kernel may overrun a period's quota by up to a scheduler tick
	// before it throttles: twice the quota per period is a generous bound
	// that an unlimited loop (100 ms per period) is far above.
	require.LessOrEqual(t, s.CPU.UsageNanos, 2*uint64(quota)*(s.CPU.Periods+1))
}

// checkFreeze: a counter the process keeps writing stops while frozen and
// moves again after Thaw.
func checkFreeze(t *testing.T, h *Host) {
	g := newRealGroup(t, h, "freeze")
	counter := filepath.Join(t.TempDir(), "counter")
	startInGroup(t, g, fmt.Sprintf("i=0; while :; do i=$((i+1)); echo $i > %s; done", counter))
	read := func() string {
		b, _ := os.ReadFile(counter)
		return string(b)
	}
	number := func() int {
		n, _ := strconv.Atoi(strings.TrimSpace(read()))
		return n
	}
	eventually(t, "the counter to start", func() bool { return number() > 0 })

	require.NoError(t, g.Freeze())
	frozen, err := g.Frozen()
	require.NoError(t, err)
	require.True(t, frozen)
	before := read()
	time.Sleep(300 * time.Millisecond) // plenty of time to count on, if it could run
	require.Equal(t, before, read(), "the counter moved while frozen")

	require.NoError(t, g.Thaw())
	frozen, err = g.Frozen()
	require.NoError(t, err)
	require.False(t, frozen)
	eventually(t, "the counter to move after thaw", func() bool { return read() != before })
}

// checkKillAll: a script that keeps forking is killed completely, and a
// gentler signal is delivered without leaving the group frozen.
func checkKillAll(t *testing.T, h *Host) {
	g := newRealGroup(t, h, "kill")
	_, err := g.Apply(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(64))}})
	require.NoError(t, err)
	startInGroup(t, g, "while :; do sleep 1000 & sleep 0.01; done")
	eventually(t, "children to appear", func() bool {
		pids, err := g.Pids()
		return err == nil && len(pids) >= 5
	})
	require.NoError(t, g.KillAll(unix.SIGKILL))
	pids, err := g.Pids()
	require.NoError(t, err)
	require.Empty(t, pids)

	startInGroup(t, g, "sleep 1000 & sleep 1000 & wait")
	eventually(t, "children to appear", func() bool {
		pids, err := g.Pids()
		return err == nil && len(pids) == 3
	})
	require.NoError(t, g.KillAll(unix.SIGTERM))
	frozen, err := g.Frozen()
	require.NoError(t, err)
	require.False(t, frozen, "KillAll must thaw what it froze")
	eventually(t, "SIGTERM to empty the group", func() bool {
		pids, err := g.Pids()
		return err == nil && len(pids) == 0
	})
}

// checkDestroy: after the processes are gone, Destroy removes the group,
// and the parent Create made for it, from every hierarchy.
func checkDestroy(t *testing.T, h *Host) {
	parent := fmt.Sprintf("/cm-cgroupfs-test-%d-parent", os.Getpid())
	gi, err := h.Group(parent + "/child")
	require.NoError(t, err)
	g := gi.(*group)
	t.Cleanup(func() {
		// Only does anything if the test failed half way.
		_ = g.KillAll(unix.SIGKILL)
		_ = g.Destroy()
		for _, hi := range h.hierarchies() {
			_ = os.Remove(filepath.Join(hi.mountpoint, parent))
		}
	})
	require.NoError(t, g.Create())
	for _, d := range g.dirs {
		require.DirExists(t, d.dir)
	}
	// Joining proves the new nested cpuset (v1) got its CPUs and memory
	// nodes; without them the kernel refuses with ENOSPC.
	p := startInGroup(t, g, "sleep 1000")
	eventually(t, "the process to join", func() bool {
		pids, err := g.Pids()
		return err == nil && len(pids) == 1
	})
	require.NoError(t, g.KillAll(unix.SIGKILL))
	p.wait(t)
	require.NoError(t, g.Destroy())
	for _, d := range g.dirs {
		require.NoDirExists(t, d.dir)
		require.NoDirExists(t, filepath.Dir(d.dir), "the parent Create made")
	}
	require.NoError(t, g.Destroy(), "destroying again is fine")
}
