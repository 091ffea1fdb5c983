package shim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHeartbeatFollowsReply: the shim beats at the interval its
// registration named while heartbeat answers are empty (an older
// manager), and at whatever interval a heartbeat's answer names after.
// Only the rate's order of magnitude is checked: 20 ms against 2 s.
func TestHeartbeatFollowsReply(t *testing.T) {
	const fast, slow = 20 * time.Millisecond, 2 * time.Second
	e := newEnv(t, fast)
	e.launch(e.bundle(nil, "sleep", "1000"))
	waitRegistered(t, e.manager, 1)
	heartbeats := func() int {
		_, _, n := e.manager.snapshot()
		return n
	}
	// waitBeats waits up to within for n more heartbeats than now.
	waitBeats := func(n int, within time.Duration, msg string) {
		from := heartbeats()
		require.Eventually(t, func() bool { return heartbeats() >= from+n }, within, tick, msg)
	}
	waitBeats(10, waitLong, "an empty heartbeat answer must keep the registered interval")
	require.Equal(t, fast, e.manager.saidInterval(), "a heartbeat says the interval the shim beats at")

	// Answers name 2 s: once one has arrived, a second sees one beat at most.
	e.manager.setBeat(slow)
	waitBeats(2, waitLong, "heartbeats stopped")
	from := heartbeats()
	time.Sleep(time.Second)
	require.LessOrEqual(t, heartbeats()-from, 2, "the shim still beats fast after being told %s", slow)
	require.Equal(t, slow, e.manager.saidInterval())

	// Back to 20 ms: after the slow beat that carries the news, ten more
	// take a fraction of a second, where at 2 s they would take 20.
	e.manager.setBeat(fast)
	waitBeats(11, 10*time.Second, "the shim does not speed up again when told 20ms")
}
