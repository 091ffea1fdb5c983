package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"

	"cm/tests/fixture"
)

// The tests in this file are issue 6: what happens to real shims and
// their containers when the manager or a shim goes away.

// TestManagerAbortUnknownContainer: a manager that restarts with an empty
// state directory does not know the running container; its shim hears
// 404 at its next registration, kills the workload and exits, and nothing
// of the container is left.
func TestManagerAbortUnknownContainer(t *testing.T) {
	dir := t.TempDir()
	m := startManager(t, dir, "--heartbeat", "200ms")
	ct := m.run("sleep", "1000")
	require.True(t, fixture.Alive(ct.ShimPid), "shim pid %d", ct.ShimPid)
	require.True(t, fixture.Alive(ct.Pid), "container pid %d", ct.Pid)
	require.NotEmpty(t, fixture.ProcessesInCgroup(ct.ID))

	m.kill9()
	require.True(t, fixture.Alive(ct.Pid), "the container outlives the manager")
	began := time.Now()
	m.restart(filepath.Join(dir, "empty-state"))

	require.Eventually(t, func() bool { return !fixture.Alive(ct.ShimPid) }, waitLong, tick, "the shim did not exit")
	t.Logf("shim exited %v after the manager came back empty (heartbeat 200ms)", time.Since(began).Round(time.Millisecond))
	require.False(t, fixture.Alive(ct.Pid), "container process %d still runs", ct.Pid)
	require.Empty(t, fixture.ProcessesInCgroup(ct.ID), "processes left in the container's cgroup")
	require.Empty(t, cgroupDirs(ct.ID), "cgroup left behind")
	_, err := os.Stat(filepath.Join(m.RuntimeRoot, ct.ID))
	require.True(t, os.IsNotExist(err), "runtime state left behind")
	require.Empty(t, m.shimPids())
	list, err := m.Client.List(m.ctx())
	require.NoError(t, err)
	require.Empty(t, list, "the new manager adopted nothing")
	// The shim removed its own files (the old daemon's are not its to remove).
	for _, name := range []string{"shim.sock", "status.json", "container.log", "shim.log"} {
		_, err := os.Stat(filepath.Join(dir, "state", "containers", ct.ID, name))
		require.True(t, os.IsNotExist(err), "%s left behind", name)
	}
}

// TestManagerRestartAdopts: containers keep running while the manager is
// down, and one of them exits meanwhile. The restarted manager adopts
// every shim again (RUNNING, confirmed, same shim) and reports the exit
// status of the one that died while nobody listened.
func TestManagerRestartAdopts(t *testing.T) {
	for _, how := range []string{"SIGTERM", "SIGKILL"} {
		t.Run(how, func(t *testing.T) {
			m := startManager(t, t.TempDir(), "--heartbeat", "200ms", "--restart-grace", "20s")
			running := []api.Container{m.run("sleep", "1000"), m.run("sleep", "1000")}
			dies := m.run("sh", "-c", "trap 'exit 7' USR1; echo ready; while :; do sleep 0.05; done")
			require.Eventually(t, func() bool { return strings.Contains(m.cmctlOK("logs", dies.ID), "ready") }, waitLong, tick)

			if how == "SIGTERM" {
				m.stop()
			} else {
				m.kill9()
			}
			require.NoError(t, syscall.Kill(dies.Pid, syscall.SIGUSR1))
			require.Eventually(t, func() bool { return !fixture.Alive(dies.Pid) }, waitLong, tick, "the container did not exit on USR1")
			for _, ct := range running {
				require.True(t, fixture.Alive(ct.Pid), "container %s stopped with the manager", ct.ID)
				require.True(t, fixture.Alive(ct.ShimPid), "shim of %s stopped with the manager", ct.ID)
			}

			m.restart(m.StateDir)
			for _, ct := range running {
				require.Eventually(t, func() bool {
					got, err := m.Client.Get(m.ctx(), ct.ID)
					return err == nil && !got.Unconfirmed
				}, waitLong, tick, "shim of %s never re-registered", ct.ID)
				got, err := m.Client.Get(m.ctx(), ct.ID)
				require.NoError(t, err)
				require.Equal(t, manager.Running, got.State)
				require.Equal(t, ct.ShimPid, got.ShimPid, "the same shim")
				require.Equal(t, ct.Pid, got.Pid)
				require.True(t, fixture.Alive(got.Pid))
			}
			got := m.waitState(dies.ID, manager.Dead)
			require.Equal(t, 7, got.ExitCode, "the exit code of the container that died while the manager was down")
			require.Equal(t, 0, got.Signal)
			require.False(t, got.Unconfirmed)

			// The adopted shims still obey: stop one, remove all.
			grace := 0.5
			_, err := m.Client.Stop(m.ctx(), running[0].ID, api.StopRequest{Timeout: &grace})
			require.NoError(t, err)
			got, err = m.Client.Wait(m.ctx(), running[0].ID)
			require.NoError(t, err)
			require.Equal(t, manager.Dead, got.State)
			require.Equal(t, 137, got.ExitCode, "sleep as PID 1 ignores SIGTERM, so it was killed")
			for _, ct := range append(running, dies) {
				_, err := m.Client.Delete(m.ctx(), ct.ID, true)
				require.NoError(t, err)
				m.requireContainerGone(ct.ID)
			}
			m.requireNoShims()
		})
	}
}

// TestManagerLostShim: a shim killed with SIGKILL falls silent, and within
// the TTL its container is LOST, though its process still runs. rm of the
// LOST container kills what is left in its cgroup and removes it.
func TestManagerLostShim(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms", "--heartbeat-ttl", "1s")
	ct := m.run("sleep", "1000")
	require.NoError(t, syscall.Kill(ct.ShimPid, syscall.SIGKILL))
	lost := m.waitState(ct.ID, manager.Lost)
	require.Equal(t, ct.Pid, lost.Pid)
	require.True(t, fixture.Alive(ct.Pid), "the container outlives its shim")
	require.NotEmpty(t, fixture.ProcessesInCgroup(ct.ID))

	require.Equal(t, ct.ID, m.cmctlOK("rm", ct.ID))
	require.False(t, fixture.Alive(ct.Pid), "rm of a LOST container must kill it")
	m.requireContainerGone(ct.ID)
	r := m.cmctl("inspect", ct.ID)
	requireOneLineError(t, r, "no such container")
}

// zombieChildren lists the zombies whose parent is pid.
func zombieChildren(pid int) (zombies, live []int) {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(data), ')')
		fields := strings.Fields(string(data[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if fields[0] == "Z" {
			zombies = append(zombies, child)
		} else {
			live = append(live, child)
		}
	}
	return zombies, live
}

// TestManagerInit: with --init, cminit is PID 1. It forwards the stop
// signal to a program that, as PID 1, would ignore it, so stop ends it
// with SIGTERM instead of SIGKILL after the grace period; and it reaps the
// orphans of the container, which a plain program as PID 1 leaves as
// zombies (the control case).
func TestManagerInit(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms")

	t.Run("stop", func(t *testing.T) {
		m := m.in(t)
		ct := m.create(api.CreateRequest{Args: []string{"sleep", "1000"}, Init: true})
		started, err := m.Client.Start(m.ctx(), ct.ID)
		require.NoError(t, err)
		waitForCminit(t, started.Pid)
		began := time.Now()
		require.Equal(t, ct.ID, m.cmctlOK("stop", "--time", "60", ct.ID))
		t.Logf("stopped in %v (grace period 60s)", time.Since(began).Round(time.Millisecond))
		got, err := m.Client.Get(m.ctx(), ct.ID)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, got.State)
		// cminit exits with 128+N for a program killed by signal N: a
		// SIGKILL at the end of the grace period would be 137.
		require.Equal(t, 128+int(syscall.SIGTERM), got.ExitCode, "the program died of SIGTERM")
		require.Equal(t, 0, got.Signal, "cminit itself exited, it was not killed")
		_, err = m.Client.Delete(m.ctx(), ct.ID, false)
		require.NoError(t, err)
		m.requireContainerGone(ct.ID)
	})

	for _, init := range []bool{true, false} {
		t.Run(fmt.Sprintf("zombie/init=%v", init), func(t *testing.T) {
			m := m.in(t)
			// The inner sh exits at once, so its background subshell is
			// orphaned to the namespace's PID 1, and exits after a while.
			ct := m.create(api.CreateRequest{Init: init, Args: []string{"sh", "-c",
				`sh -c '(sleep 0.2; echo orphan exits) &'; exec sleep 1000`}})
			ct, err := m.Client.Start(m.ctx(), ct.ID)
			require.NoError(t, err)
			require.NotZero(t, ct.Pid)
			require.Eventually(t, func() bool { return strings.Contains(m.cmctlOK("logs", ct.ID), "orphan exits") }, waitLong, tick)
			if init {
				// cminit's only child left is the program (sh, now sleep):
				// the orphan is neither running nor a zombie.
				require.Eventually(t, func() bool {
					zombies, live := zombieChildren(ct.Pid)
					return len(zombies) == 0 && len(live) == 1
				}, waitLong, tick, "cminit did not reap the orphan")
			} else {
				require.Eventually(t, func() bool {
					zombies, _ := zombieChildren(ct.Pid)
					return len(zombies) == 1
				}, waitLong, tick, "the control case: sleep as PID 1 leaves the orphan a zombie")
			}
			_, err = m.Client.Delete(m.ctx(), ct.ID, true)
			require.NoError(t, err)
			m.requireContainerGone(ct.ID)
		})
	}
	m.requireNoShims()
}
