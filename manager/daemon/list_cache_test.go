package daemon_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestListFollowsChanges: the list, assembled from each container's cached
// JSON, says what a fresh look at every container says, after each
// change: create, start, exit, remove.
func TestListFollowsChanges(t *testing.T) {
	h := newHarness(t, "shim")
	same := func(want ...string) {
		t.Helper()
		list, err := h.client.List(ctxT(t))
		require.NoError(t, err)
		var ids []string
		for _, c := range list {
			ids = append(ids, c.ID)
			require.Equal(t, h.get(c.ID), c, "list entry of %s", c.ID)
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
