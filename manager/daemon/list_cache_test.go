package daemon_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestListFollowsChanges: the list, assembled from each container's cached
// JSON, says what a fresh look at every container says, after each
// change: create, start, exit, remove.
func TestListFollowsChanges(t *testing.T) {
	h := newHarness(t, "shim")
	// A container can change between the list and the look at it (the
	// shim's registration may land after READY), so a mismatch is only a
	// failure if it lasts: a stale cache entry would never catch up.
	same := func(want ...string) {
		t.Helper()
		var list []api.Container
		var differs string // the last list entry found unlike a fresh look, with the look
		agrees := func() bool {
			var err error
			list, err = h.client.List(ctxT(t))
			require.NoError(t, err)
			for _, c := range list {
				if got := h.get(c.ID); !reflect.DeepEqual(got, c) {
					differs = fmt.Sprintf("list entry %+v\nfresh look %+v", c, got)
					return false
				}
			}
			return true
		}
		ok := agrees()
		for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); ok = agrees() {
			time.Sleep(10 * time.Millisecond)
		}
		require.True(t, ok, "the list does not follow a change: %s", differs)
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
		}
		require.ElementsMatch(t, want, ids)
	}
	a, b := h.create("a", "sleep"), h.create("b", "exit", "3")
	h.waitState(a.ID, manager.Ready)
	h.waitState(b.ID, manager.Ready)
	same(a.ID, b.ID)
	for _, id := range []string{a.ID, b.ID} {
		_, err := h.client.Start(ctxT(t), id)
		require.NoError(t, err)
	}
	h.waitState(a.ID, manager.Running)
	require.Equal(t, 3, h.waitState(b.ID, manager.Dead).ExitCode)
	same(a.ID, b.ID)
	_, err := h.client.Delete(ctxT(t), b.ID, false)
	require.NoError(t, err)
	same(a.ID)
	running, err := h.client.List(ctxT(t), manager.Running)
	require.NoError(t, err)
	require.Equal(t, []api.Container{h.get(a.ID)}, running)
}
