package tests

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"cm/bench"
	"cm/manager"
	"cm/manager/api"

	"cm/tests/fixture"
)

// TestManagerHundredContainers (issue 6): the daemon supervises 100 real
// containers at once, each with its own shim. All of them run; the shims'
// memory is reported (RSS counts the shared binary once per shim, PSS
// shares it out); then all are removed and nothing of them remains.
func TestManagerHundredContainers(t *testing.T) {
	const n = 100
	m := startManager(t, t.TempDir(), "--heartbeat", "2s")
	began := time.Now()

	var (
		mu  sync.Mutex
		cts []api.Container
		g   errgroup.Group // eight clients at once
	)
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			ct, err := m.Client.Create(m.ctx(), api.CreateRequest{
				Name: fmt.Sprintf("sleeper-%03d", i), Rootfs: managerRootfs(), Args: []string{"sleep", "1000"},
			})
			if err != nil {
				return err
			}
			if ct, err = m.Client.Wait(m.ctx(), ct.ID, manager.Ready, manager.Dead, manager.Lost); err != nil {
				return err
			}
			if ct, err = m.Client.Start(m.ctx(), ct.ID); err != nil {
				return err
			}
			mu.Lock()
			cts = append(cts, ct)
			mu.Unlock()
			return nil
		})
	}
	require.NoError(t, g.Wait())
	require.Len(t, cts, n)
	t.Logf("%d containers created and started in %v", n, time.Since(began).Round(time.Millisecond))

	running, err := m.Client.List(m.ctx(), manager.Running)
	require.NoError(t, err)
	require.Len(t, running, n, "all RUNNING")
	shims := map[int]bool{}
	var rss, pss, anon []int64
	for _, ct := range running {
		require.True(t, fixture.Alive(ct.Pid), "container %s", ct.Name)
		require.True(t, fixture.Alive(ct.ShimPid), "shim of %s", ct.Name)
		require.NotEmpty(t, fixture.ProcessesInCgroup(ct.ID), "cgroup of %s", ct.Name)
		shims[ct.ShimPid] = true
		mem, err := bench.ProcMemory(ct.ShimPid)
		require.NoError(t, err)
		rss, anon, pss = append(rss, mem.RSS), append(anon, mem.Anon), append(pss, mem.Pss)
	}
	require.Len(t, shims, n, "one shim per container")
	require.Equal(t, shims, m.shimPidSet(), "the daemon's shims are exactly these")
	for name, v := range map[string][]int64{"VmRSS": rss, "RssAnon": anon, "Pss": pss} {
		slices.Sort(v)
		total := int64(0)
		for _, kb := range v {
			total += kb
		}
		t.Logf("%d shims, %-7s total %6.1f MB; per shim: mean %5.1f MB, min %5.1f, median %5.1f, max %5.1f",
			n, name, float64(total)/1024, float64(total)/1024/n, float64(v[0])/1024, float64(v[n/2])/1024, float64(v[n-1])/1024)
	}
	daemon, err := bench.ProcMemory(m.cmd.Process.Pid)
	require.NoError(t, err)
	t.Logf("cmanagerd: VmRSS %.1f MB", float64(daemon.RSS)/1024)

	began = time.Now()
	var rm errgroup.Group
	rm.SetLimit(8)
	for _, ct := range running {
		rm.Go(func() error {
			_, err := m.Client.Delete(m.ctx(), ct.ID, true)
			return err
		})
	}
	require.NoError(t, rm.Wait())
	t.Logf("%d containers removed in %v", n, time.Since(began).Round(time.Millisecond))
	list, err := m.Client.List(m.ctx())
	require.NoError(t, err)
	require.Empty(t, list)
	for _, ct := range running {
		m.requireContainerGone(ct.ID)
		require.False(t, fixture.Alive(ct.Pid))
	}
	m.requireNoShims()
}

// shimPidSet is shimPids as a set's keys.
func (m *managerProc) shimPidSet() map[int]bool {
	set := map[int]bool{}
	for _, pid := range m.shimPids() {
		set[pid] = true
	}
	return set
}
