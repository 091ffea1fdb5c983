package daemon

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"cm/manager"
)

// This file is the only one that knows Prometheus. The daemon's metrics
// are served at GET /metrics on the client socket and, with
// Config.MetricsListen, on a TCP address for a Prometheus server to scrape.

// metrics are the daemon's counters and the registry that exposes them.
// Each daemon has its own registry, so tests can run several in one process.
type metrics struct {
	registry         *prometheus.Registry
	handler          http.Handler
	transitions      *prometheus.CounterVec
	heartbeats       prometheus.Counter
	heartbeatsMissed prometheus.Counter
	lost             prometheus.Counter
	createSeconds    prometheus.Histogram
	server           *http.Server // on MetricsListen, if set
	listener         net.Listener
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cm_transitions_total",
			Help: "State transitions made, by the state left and the state entered.",
		}, []string{"from", "to"}),
		heartbeats: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_shim_heartbeats_total",
			Help: "Heartbeats received from shims.",
		}),
		heartbeatsMissed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_shim_heartbeats_missed_total",
			Help: "Heartbeat intervals that passed without a word from a shim, counted when it is heard again.",
		}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cm_containers_lost_total",
			Help: "Containers marked LOST because their shim went silent for the TTL.",
		}),
		createSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cm_create_seconds",
			Help:    "Time from create to READY (bundle written, shim launched, container created), in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12), // 10ms to 20s
		}),
	}
	interval := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "cm_shim_heartbeat_interval_seconds",
		Help: "The heartbeat interval shims are told now: the configured one, longer with more containers than the heartbeat budget takes.",
	}, func() float64 { return d.beatInterval().Seconds() })
	m.registry.MustRegister(m.transitions, m.heartbeats, m.heartbeatsMissed, m.lost, m.createSeconds, interval,
		containerCollector{d: d},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	m.handler = promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

// transition counts one recorded change of state (called by record, the
// one place changes are made public).
func (m *metrics) transition(e *entry, before, after *manager.Snapshot) {
	if before.State == after.State {
		return
	}
	m.transitions.WithLabelValues(before.State.String(), after.State.String()).Inc()
	switch {
	case after.State == manager.Lost:
		m.lost.Inc()
	case before.State == manager.Creating && after.State == manager.Ready:
		m.createSeconds.Observe(time.Since(e.Created).Seconds())
	}
}

// heard counts the heartbeats a shim missed before this message: the
// intervals, rounded, between its last message and now, minus the one
// this message ends. A container reloaded after a restart is not counted
// until its shim has spoken once: the daemon was not listening. The
// interval is the one the shim was last told, ttl the silence it allowed.
func (m *metrics) heard(e *entry, now time.Time, ttl, interval time.Duration) {
	deadline, ok := e.Deadline()
	if !ok || e.Unconfirmed() || interval <= 0 {
		return
	}
	last := deadline.Add(-ttl)
	if missed := math.Round(float64(now.Sub(last))/float64(interval)) - 1; missed > 0 {
		m.heartbeatsMissed.Add(missed)
	}
}

// containerCollector reads, at each scrape, the containers by state and
// the cgroup counters of those running: a removed container's series
// disappear with it.
type containerCollector struct{ d *Daemon }

var (
	containersDesc = prometheus.NewDesc("cm_containers", "Containers by state.", []string{"state"}, nil)
	cpuDesc        = prometheus.NewDesc("cm_container_cpu_seconds_total", "CPU time a running container has used, from its cgroup.", []string{"id", "name"}, nil)
	memoryDesc     = prometheus.NewDesc("cm_container_memory_bytes", "Memory a running container uses, from its cgroup (page cache and tmpfs included).", []string{"id", "name"}, nil)
)

func (c containerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- containersDesc
	ch <- cpuDesc
	ch <- memoryDesc
}

func (c containerCollector) Collect(ch chan<- prometheus.Metric) {
	count := map[manager.State]int{}
	for _, e := range c.d.table.List() {
		s := e.Snap()
		if s.Deleting {
			continue
		}
		count[s.State]++
		if manager.CheckOp(e.ID, manager.OpStats, s.State) != nil {
			continue
		}
		cg, err := readCgroupStats(e.ID)
		if err != nil {
			continue // it just exited: its series go with it
		}
		ch <- prometheus.MustNewConstMetric(cpuDesc, prometheus.CounterValue, float64(cg.CPU.UsageNanos)/1e9, e.ID, e.Name)
		ch <- prometheus.MustNewConstMetric(memoryDesc, prometheus.GaugeValue, float64(cg.Memory.Usage), e.ID, e.Name)
	}
	for _, s := range manager.States() {
		ch <- prometheus.MustNewConstMetric(containersDesc, prometheus.GaugeValue, float64(count[s]), s.String())
	}
}

func (d *Daemon) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	d.metrics.handler.ServeHTTP(w, r)
	return nil
}

// listenMetrics opens Config.MetricsListen, if set.
func (d *Daemon) listenMetrics() error {
	if d.cfg.MetricsListen == "" {
		return nil
	}
	l, err := net.Listen("tcp", d.cfg.MetricsListen)
	if err != nil {
		return fmt.Errorf("metrics listen address: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", d.metrics.handler)
	mux.HandleFunc("/", notFound)
	d.metrics.listener = l
	d.metrics.server = &http.Server{
		Handler: mux, ReadHeaderTimeout: d.cfg.ReadTimeout, IdleTimeout: d.cfg.IdleTimeout,
		WriteTimeout: time.Minute, // a scrape is one short answer
	}
	return nil
}

// serveMetrics serves the metrics address until closeMetrics.
func (d *Daemon) serveMetrics(errc chan<- error) {
	if d.metrics.server == nil {
		return
	}
	d.log.Info("serving metrics", "address", d.metrics.listener.Addr().String())
	go func() {
		if err := d.metrics.server.Serve(d.metrics.listener); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve metrics on %s: %w", d.metrics.listener.Addr(), err)
		}
	}()
}

// closeMetrics stops serving the metrics address.
func (d *Daemon) closeMetrics() {
	if d.metrics.server != nil {
		d.metrics.server.Close()
		d.metrics.listener.Close() // in case Serve never ran
	}
}
