package daemon_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
)

func readEvents(t *testing.T, s *api.EventStream, n int) []api.Event {
	t.Helper()
	var out []api.Event
	for range n {
		ev, err := s.Next()
		require.NoError(t, err)
		out = append(out, ev)
	}
	return out
}

// TestEventsReplay: ?since= replays from the ring; a since older than the
// ring gets an explicit resync, then the stream goes on.
func TestEventsReplay(t *testing.T) {
	h := newHarness(t, "shim", func(c *daemon.Config) { c.EventRing = 8 })
	info, err := h.client.Info(ctxT(t))
	require.NoError(t, err)
	start := info.LastEvent

	c := h.create("one", "exit", "0")
	h.waitState(c.ID, manager.Ready)
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	h.waitState(c.ID, manager.Dead)

	// created, CREATING→READY, READY→RUNNING, RUNNING→DEAD: numbered in order.
	stream, err := h.client.Events(ctxT(t), &start)
	require.NoError(t, err)
	evs := readEvents(t, stream, 4)
	stream.Close()
	for i, ev := range evs {
		require.Equal(t, start+1+uint64(i), ev.Seq)
		require.Equal(t, c.ID, ev.ID)
		require.False(t, ev.Time.IsZero())
	}
	require.Equal(t, api.EventCreated, evs[0].Type)
	require.Equal(t, manager.Dead, evs[3].To)
	require.Equal(t, 0, *evs[3].ExitCode)

	// Replay from the middle.
	mid := evs[1].Seq
	stream, err = h.client.Events(ctxT(t), &mid)
	require.NoError(t, err)
	require.Equal(t, evs[2:], readEvents(t, stream, 2))
	stream.Close()

	// Push the first events out of the ring of 8.
	for range 3 {
		c := h.create("", "sleep")
		h.waitState(c.ID, manager.Ready)
	}
	stream, err = h.client.Events(ctxT(t), &start)
	require.NoError(t, err)
	defer stream.Close()
	first := readEvents(t, stream, 1)[0]
	require.Equal(t, api.EventResync, first.Type)
	require.Equal(t, start+4+6, first.Seq, "the resync names the last event skipped")
	// After the resync, new events follow without a gap.
	d := h.create("after", "sleep")
	next := readEvents(t, stream, 1)[0]
	require.Equal(t, first.Seq+1, next.Seq)
	require.Equal(t, d.ID, next.ID)
}

// TestRestartAdoptsAndLoses: after a restart every container is back; the
// ones whose shim speaks up are adopted, the silent ones become LOST once
// the restart grace period is over, and sequence numbers keep growing.
func TestRestartAdoptsAndLoses(t *testing.T) {
	h := newHarness(t, "shim")
	adopted := h.create("adopted", "sleep")
	silent := h.create("silent", "sleep")
	dead := h.create("dead", "exit", "5")
	for _, c := range []api.Container{adopted, silent, dead} {
		h.waitState(c.ID, manager.Ready)
		_, err := h.client.Start(ctxT(t), c.ID)
		require.NoError(t, err)
	}
	h.waitState(dead.ID, manager.Dead)
	before, err := h.client.Info(ctxT(t))
	require.NoError(t, err)

	require.NoError(t, h.stop())
	h.launcher.shim(silent.ID).SetSilent(true)
	h.start()

	for _, c := range []api.Container{adopted, silent} {
		got := h.get(c.ID)
		require.Equal(t, manager.Running, got.State)
	}
	got := h.get(dead.ID)
	require.Equal(t, manager.Dead, got.State)
	require.Equal(t, 5, got.ExitCode)

	h.waitState(silent.ID, manager.Lost)
	got = h.get(adopted.ID)
	require.Equal(t, manager.Running, got.State)
	require.False(t, got.Unconfirmed, "its shim re-registered")

	after, err := h.client.Info(ctxT(t))
	require.NoError(t, err)
	require.Equal(t, before.Boot+1, after.Boot)
	require.Greater(t, after.LastEvent, before.LastEvent)
}
