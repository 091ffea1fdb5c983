package daemon_test

import (
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/daemon"
	"cm/shim/proto"
)

// TestHeartbeatPacedToBudget: with more containers than the budget takes
// at the configured interval, heartbeat answers name a longer interval,
// and the watchdog waits for the TTL of that interval, not the configured one.
func TestHeartbeatPacedToBudget(t *testing.T) {
	const interval, ttl, budget, many = 100 * time.Millisecond, time.Second, 100, 40
	h := newHarness(t, "none", func(c *daemon.Config) {
		c.HeartbeatInterval, c.HeartbeatTTL, c.HeartbeatBudget = interval, ttl, budget
	})
	c := h.create("", "sleep")
	shim := h.shimOf(c.ID)
	reg, err := shim.Register(ctxT(t), proto.Register{ID: c.ID, Pid: os.Getpid(), Control: h.control(c.ID), State: proto.StateReady})
	require.NoError(t, err)
	require.Equal(t, interval, time.Duration(reg.HeartbeatInterval), "one container: the configured interval")

	for range many - 1 {
		h.create("", "sleep")
	}
	paced := many * time.Second / budget // 400ms, its TTL 4s
	// An older shim, which says no interval and ignores the answer, is
	// still held to the interval of its registration.
	beat := heartbeat(t, h, c.ID, 0)
	require.Equal(t, interval, time.Duration(beat.HeartbeatInterval), "a shim that does not follow answers is told nothing new")
	beat = heartbeat(t, h, c.ID, interval)
	require.Equal(t, paced, time.Duration(beat.HeartbeatInterval), "%d containers at %d heartbeats/s", many, budget)
	m := h.scrape()
	require.Equal(t, paced.Seconds(), value(m, "cm_shim_heartbeat_interval_seconds"))
	require.Equal(t, 2.0, value(m, "cm_shim_heartbeats_total"))

	// Well past the configured TTL, well within the paced one.
	require.Never(t, func() bool { return h.get(c.ID).State == manager.Lost }, 2*ttl, 20*time.Millisecond,
		"a shim told %s was declared LOST after the TTL of %s", paced, interval)
	h.waitState(c.ID, manager.Lost) // silent for the paced TTL, it is LOST all the same
}

// TestHeartbeatFixedWithoutBudget: budget 0 keeps the configured
// interval however many containers there are; the answer still names it.
func TestHeartbeatFixedWithoutBudget(t *testing.T) {
	const interval = 50 * time.Millisecond
	h := newHarness(t, "none", func(c *daemon.Config) { c.HeartbeatInterval = interval })
	c := h.create("", "sleep")
	for range 20 {
		h.create("", "sleep")
	}
	require.Equal(t, interval, time.Duration(heartbeat(t, h, c.ID, interval).HeartbeatInterval))
}

// heartbeat sends the heartbeat of a shim of container id that beats
// every interval (0: a shim that does not say) and returns the answer.
func heartbeat(t *testing.T, h *harness, id string, interval time.Duration) proto.HeartbeatReply {
	t.Helper()
	var reply proto.HeartbeatReply
	require.NoError(t, h.shimOf(id).Do(ctxT(t), http.MethodPost, proto.PathHeartbeat,
		proto.Heartbeat{ID: id, Interval: proto.Interval(interval)}, &reply))
	return reply
}
