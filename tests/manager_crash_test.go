package tests

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"

	"cm/tests/fixture"
)

// acked collects what the daemon acknowledged before it was killed.
type acked struct {
	mu      sync.Mutex
	created []string // creates that returned an id
	stopped []string // stops that returned
}

func (a *acked) add(list *[]string, id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	*list = append(*list, id)
}

func (a *acked) counts() (created, stopped int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.created), len(a.stopped)
}

// TestManagerCrash (issue 5): cmanagerd is killed with SIGKILL while real
// containers are being created and stopped, and restarted on the same
// state directory. Everything it acknowledged is still there: every
// container whose create returned an id, every stop that returned (it
// goes on to DEAD, it never comes back RUNNING), every exit status; and
// the running containers are adopted by their re-registering shims.
func TestManagerCrash(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms", "--restart-grace", "5s")

	// Settled before the crash: exit statuses, running containers, and
	// containers to stop (sleep as PID 1 ignores SIGTERM: they stay
	// STOPPING until the grace period ends in SIGKILL).
	exits := map[string]int{}
	for code := 3; code < 6; code++ {
		ct := m.runToEnd("sh", "-c", "exit "+itoa(code))
		require.Equal(t, code, ct.ExitCode)
		exits[ct.ID] = code
	}
	running := map[string]api.Container{}
	for range 3 {
		ct := m.run("sleep", "1000")
		running[ct.ID] = ct
	}
	var toStop []api.Container
	for range 6 {
		toStop = append(toStop, m.run("sleep", "1000"))
	}

	// The burst: one client creates containers as fast as the daemon
	// acknowledges them (the executor falls behind: the crash finds
	// creates whose preparation never began), another creates and starts
	// them one by one, a third stops the prepared ones; the daemon dies
	// when all are under way.
	var a acked
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, start := range []bool{false, true} {
		wg.Go(func() {
			for ctx.Err() == nil {
				ct, err := m.Client.Create(ctx, api.CreateRequest{Rootfs: managerRootfs(), Args: []string{"sleep", "1000"}})
				if err != nil {
					return
				}
				a.add(&a.created, ct.ID)
				if !start {
					continue
				}
				if _, err := m.Client.Wait(ctx, ct.ID, manager.Ready); err != nil {
					return
				}
				if _, err := m.Client.Start(ctx, ct.ID); err != nil {
					return
				}
			}
		})
	}
	wg.Go(func() {
		grace := 2.0
		for _, ct := range toStop {
			if _, err := m.Client.Stop(ctx, ct.ID, api.StopRequest{Timeout: &grace}); err != nil {
				return
			}
			a.add(&a.stopped, ct.ID)
			time.Sleep(100 * time.Millisecond) // spread the stops over the creates
		}
	})
	require.Eventually(t, func() bool {
		created, stopped := a.counts()
		return created >= 12 && stopped >= 2
	}, waitLong, tick/4)
	m.kill9()
	wg.Wait()
	created, stopped := a.counts()
	t.Logf("acknowledged before the crash: %d creates, %d stops", created, stopped)

	m.restart(m.StateDir)
	// Right after the restart, before any shim had time to speak: the
	// acknowledged stops are still stops.
	for _, id := range a.stopped {
		ct, err := m.Client.Get(m.ctx(), id)
		require.NoError(t, err, "acknowledged stop of %s", id)
		require.Contains(t, []manager.State{manager.Stopping, manager.Dead}, ct.State, "acknowledged stop of %s", id)
	}
	for id, code := range exits {
		ct, err := m.Client.Get(m.ctx(), id)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, ct.State)
		require.Equal(t, code, ct.ExitCode, "exit status of %s", id)
	}
	// Every stop ends in the SIGKILL its grace period promised, even
	// though the daemon that promised it died.
	for _, id := range a.stopped {
		ct := m.waitState(id, manager.Dead)
		require.Equal(t, 137, ct.ExitCode, "stopped %s", id)
		require.Equal(t, 9, ct.Signal)
	}
	for _, ct := range running {
		got := m.waitConfirmed(ct.ID)
		require.Equal(t, manager.Running, got.State, "container %s", ct.ID)
		require.Equal(t, ct.ShimPid, got.ShimPid, "the same shim re-registered")
		require.True(t, fixture.Alive(got.ShimPid) && fixture.Alive(got.Pid))
	}
	// A create acknowledged during the burst is there too, and its shim
	// registers: it was launched before the crash, or by the restarted
	// daemon if no shim held the container's shim lock (the crash came
	// before the shim was forked). None is LOST.
	lost := 0
	for _, id := range a.created {
		got := m.waitConfirmed(id)
		switch got.State {
		case manager.Ready, manager.Running:
			require.True(t, fixture.Alive(got.ShimPid), "shim of %s", id)
		case manager.Lost:
			lost++
		default:
			require.Failf(t, "unexpected state", "acknowledged create %s is %s: %s", id, got.State, got.Error)
		}
	}
	t.Logf("acknowledged creates after the restart: %d adopted or prepared again, %d LOST", len(a.created)-lost, lost)
	require.Zero(t, lost, "acknowledged creates whose shims never spoke")

	// Everything goes away, including what the crash left unacknowledged.
	all, err := m.Client.List(m.ctx())
	require.NoError(t, err)
	for _, ct := range all {
		_, err := m.Client.Delete(m.ctx(), ct.ID, true)
		require.NoError(t, err)
	}
	for _, ct := range all {
		m.requireContainerGone(ct.ID)
	}
	m.requireNoShims()
}

// waitConfirmed polls until the container's shim has spoken since the
// restart, or the container is LOST, and returns it.
func (m *managerProc) waitConfirmed(id string) api.Container {
	m.t.Helper()
	var ct api.Container
	require.Eventually(m.t, func() bool {
		var err error
		ct, err = m.Client.Get(context.Background(), id)
		return err == nil && (!ct.Unconfirmed || ct.State == manager.Lost) && ct.State != manager.Creating
	}, waitLong, tick, "container %s: never confirmed (%s)", id, ct.State)
	return ct
}
