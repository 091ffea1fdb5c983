package daemon_test

import (
	"testing"
	"time"

	"cm/manager"
	"cm/manager/daemon"
)

// BenchmarkCreateReady measures the round trip of a create over the client
// socket until the fake shim has registered and the container is READY:
// validation, three fsyncs for the new container, the executor writing the
// bundle and launching the (in-process) shim, its registration and report
// on the shim socket with their own fsyncs, and the wait.
func BenchmarkCreateReady(b *testing.B) {
	h := newHarness(b, "shim", func(c *daemon.Config) {
		c.HeartbeatInterval, c.HeartbeatTTL = time.Second, time.Minute
	})
	for b.Loop() {
		c := h.create("", "sleep")
		h.waitState(c.ID, manager.Ready)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "containers/s")
}
