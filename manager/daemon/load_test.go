package daemon_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
)

// TestLoad: 200 concurrent creates and 1000 concurrent reads, then 200
// concurrent starts under reads again: no error, and no update lost.
func TestLoad(t *testing.T) {
	const creates, reads = 200, 1000
	h := newHarness(t, "shim", func(c *daemon.Config) {
		c.HeartbeatInterval, c.HeartbeatTTL = time.Second, 20*time.Second // 200 shims beating
	})
	ctx := ctxT(t)
	events, err := h.client.Events(ctx, nil)
	require.NoError(t, err)
	defer events.Close()
	anchor := h.create("anchor", "sleep")

	// burst runs n calls of f and n reads at once and returns every error.
	burst := func(n int, f func(i int) error) []error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		note := func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}
		for i := range n {
			wg.Go(func() { note(f(i)) })
		}
		for i := range reads {
			wg.Go(func() {
				var err error
				switch i % 3 {
				case 0:
					_, err = h.client.List(ctx)
				case 1:
					_, err = h.client.Info(ctx)
				case 2:
					_, err = h.client.Get(ctx, anchor.Name)
				}
				note(err)
			})
		}
		wg.Wait()
		return errs
	}

	ids := make([]string, creates)
	errs := burst(creates, func(i int) error {
		c, err := h.client.Create(ctx, api.CreateRequest{Name: fmt.Sprintf("load-%d", i), Rootfs: h.rootfs, Args: []string{"sleep"}})
		ids[i] = c.ID
		return err
	})
	require.Empty(t, errs)
	list, err := h.client.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, creates+1)
	seen := map[string]bool{}
	for _, c := range list {
		seen[c.ID] = true
	}
	require.Len(t, seen, creates+1, "ids are unique")

	errs = burst(creates, func(i int) error {
		if _, err := h.client.Wait(ctx, ids[i], manager.Ready); err != nil {
			return err
		}
		c, err := h.client.Start(ctx, ids[i])
		if err == nil && c.State != manager.Running {
			err = fmt.Errorf("%s: started but %s", ids[i], c.State)
		}
		return err
	})
	require.Empty(t, errs)
	running, err := h.client.List(ctx, manager.Running)
	require.NoError(t, err)
	require.Len(t, running, creates)

	// Every change was published exactly once.
	counts := map[string]int{}
	for counts["READY→RUNNING"] < creates {
		ev, err := events.Next()
		require.NoError(t, err)
		require.NotEqual(t, api.EventResync, ev.Type)
		if ev.ID == anchor.ID {
			continue
		}
		if ev.Type == api.EventCreated {
			counts["created"]++
		} else {
			counts[ev.From.String()+"→"+ev.To.String()]++
		}
	}
	require.Equal(t, map[string]int{"created": creates, "CREATING→READY": creates, "READY→RUNNING": creates}, counts)
	info, err := h.client.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, creates+1, info.Containers)
	require.Equal(t, creates, info.States["RUNNING"])
}
