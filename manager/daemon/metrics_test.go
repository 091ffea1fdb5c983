package daemon_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/shim/proto"
)

// scrape reads /metrics from the client socket and parses it as Prometheus
// would.
func (h *harness) scrape() map[string]*dto.MetricFamily {
	h.t.Helper()
	body, err := h.client.Metrics(ctxT(h.t))
	require.NoError(h.t, err)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(h.t, err, "%s", body)
	return families
}

// value is the value of the series of family name whose labels include
// labels; missing is -1.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f, ok := families[name]
	if !ok {
		return -1
	}
	for _, s := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range s.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && got[labels[i]] == labels[i+1]
		}
		switch {
		case !match:
		case s.Counter != nil:
			return s.Counter.GetValue()
		case s.Gauge != nil:
			return s.Gauge.GetValue()
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount())
		}
	}
	return -1
}

// TestMetricsCountTransitions: the counters follow the shim's reports, the
// gauge the states, and the create histogram has one sample per READY.
func TestMetricsCountTransitions(t *testing.T) {
	h := newHarness(t, "none", func(c *daemon.Config) { c.HeartbeatInterval = time.Minute; c.HeartbeatTTL = time.Hour })
	m := h.scrape()
	require.Equal(t, 0.0, value(m, "cm_containers", "state", "CREATING"))
	require.Equal(t, -1.0, value(m, "cm_transitions_total"), "no transition yet")
	require.Equal(t, 0.0, value(m, "cm_create_seconds"))

	c := h.create("one", "sleep")
	require.Equal(t, 1.0, value(h.scrape(), "cm_containers", "state", "CREATING"))
	shim := h.shimOf(c.ID)
	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateReady, Seq: 1}))
	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateRunning, Pid: 1, Seq: 2}))
	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateRunning, Pid: 1, Seq: 2}), "a repeated report")
	require.NoError(t, shim.Heartbeat(ctxT(t), c.ID))

	m = h.scrape()
	require.Equal(t, 1.0, value(m, "cm_transitions_total", "from", "CREATING", "to", "READY"))
	require.Equal(t, 1.0, value(m, "cm_transitions_total", "from", "READY", "to", "RUNNING"), "a repeated report is no transition")
	require.Equal(t, 1.0, value(m, "cm_containers", "state", "RUNNING"))
	require.Equal(t, 0.0, value(m, "cm_containers", "state", "CREATING"))
	require.Equal(t, 1.0, value(m, "cm_create_seconds"), "one create → READY observed")
	require.Equal(t, 0.0, value(m, "cm_shim_heartbeats_missed_total"), "a heartbeat well within the minute")
	// The fake shim's container has no cgroup: no per-container series,
	// and the scrape still works.
	require.Equal(t, -1.0, value(m, "cm_container_cpu_seconds_total"))

	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateDead, ExitStatus: proto.ExitStatus{ExitCode: 1}, Seq: 3}))
	_, err := h.client.Delete(ctxT(t), c.ID, false)
	require.NoError(t, err)
	m = h.scrape()
	require.Equal(t, 1.0, value(m, "cm_transitions_total", "from", "RUNNING", "to", "DEAD"))
	for _, s := range manager.States() {
		require.Equal(t, 0.0, value(m, "cm_containers", "state", s.String()), "a removed container is in no state")
	}
}

// TestMetricsLostAndMissedHeartbeats: a shim silent for the TTL makes a
// LOST container; heard again, the intervals it missed are counted.
func TestMetricsLostAndMissedHeartbeats(t *testing.T) {
	const interval = 20 * time.Millisecond
	h := newHarness(t, "none", func(c *daemon.Config) { c.HeartbeatInterval = interval; c.HeartbeatTTL = 5 * interval })
	c := h.create("", "sleep")
	shim := h.shimOf(c.ID)
	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: c.ID, State: proto.StateReady, Seq: 1}))
	h.waitState(c.ID, manager.Lost) // silence
	require.Equal(t, 1.0, value(h.scrape(), "cm_containers_lost_total"))

	// At least the TTL passed since the report: five intervals, four of
	// them missed by the time the fifth ends with this heartbeat.
	require.NoError(t, shim.Heartbeat(ctxT(t), c.ID))
	h.waitState(c.ID, manager.Ready)
	m := h.scrape()
	require.GreaterOrEqual(t, value(m, "cm_shim_heartbeats_missed_total"), 4.0)
	require.Equal(t, 1.0, value(m, "cm_transitions_total", "from", "READY", "to", "LOST"))
	require.Equal(t, 1.0, value(m, "cm_transitions_total", "from", "LOST", "to", "READY"))
}

// TestStatsRefusedOutsideRunning: stats follow the operations table.
func TestStatsRefusedOutsideRunning(t *testing.T) {
	h := newHarness(t, "none", func(c *daemon.Config) { c.HeartbeatTTL = time.Hour })
	c := h.create("", "sleep")
	_, err := h.client.Stats(ctxT(t), c.ID)
	require.Equal(t, http.StatusConflict, api.StatusOf(err))
	require.EqualError(t, err, "cannot stats container "+c.ID+": it is CREATING (stats needs RUNNING or STOPPING or PAUSED)")
	_, err = h.client.Stats(ctxT(t), "nosuch")
	require.Equal(t, http.StatusNotFound, api.StatusOf(err))
	require.EqualError(t, err, `container "nosuch": no such container`)
}
