package daemon

import (
	"io"
	"log/slog"
	"time"

	"golang.org/x/sys/unix"

	"cm/manager/network"
)

// Config is everything New needs. Zero fields get the defaults below.
type Config struct {
	StateDir    string // default /var/lib/cm
	Socket      string // client API; default /run/cm/cm.sock
	ShimSocket  string // shim API; default /run/cm/shim.sock
	SocketGroup string // group (name or number) that may use the client socket (0660); "" keeps it 0600
	// MetricsListen is a TCP address (e.g. 127.0.0.1:9464) that serves
	// GET /metrics too, for a Prometheus server; "" serves it only on Socket.
	MetricsListen string

	Workers   int // executor workers; default 4
	QueueSize int // executor queue; default 1024
	EventRing int // events kept for ?since= replay; default 4096

	HeartbeatInterval time.Duration // told to shims (the shortest, see HeartbeatBudget); default 2s
	HeartbeatTTL      time.Duration // silence that makes a container LOST; default 3 intervals
	RestartGrace      time.Duration // after a restart, how long shims have to speak up; default 30s
	StopTimeout       time.Duration // default grace period of stop; default 10s
	ShimTimeout       time.Duration // limit of one call to a shim's control socket; default 10s
	// HeartbeatBudget caps the heartbeats all shims together send a
	// second: with more containers than it takes at HeartbeatInterval,
	// shims are told a longer interval, and the TTL grows in proportion.
	// 0 keeps the interval fixed (cmanagerd's default is 200).
	HeartbeatBudget int

	// Limits of both sockets, so slow or idle peers cannot hold the daemon.
	ReadTimeout  time.Duration // to read one request's headers, then again its body; default 10s
	IdleTimeout  time.Duration // a kept-alive connection with no request is closed; default 2m (shim socket: at least 4 of the longest heartbeat interval)
	MaxConns     int           // open connections on the client socket; default a quarter of the descriptor limit, at most 4096
	MaxShimConns int           // open connections on the shim socket (one per live shim); default half the descriptor limit, at most 16384

	Network network.Config // the CNI plugins and the bridge of containers with network none or bridge

	Launcher Launcher                        // starts shims; required
	DialShim func(control string) ShimClient // default: HTTP on the control socket

	Log     *slog.Logger // default: discard
	Version string
}

func (c *Config) setDefaults() {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&c.StateDir, "/var/lib/cm")
	def(&c.Socket, "/run/cm/cm.sock")
	def(&c.ShimSocket, "/run/cm/shim.sock")
	def(&c.Version, "dev")
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt(&c.Workers, 4)
	defInt(&c.QueueSize, 1024)
	defInt(&c.EventRing, 4096)
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&c.HeartbeatInterval, 2*time.Second)
	defDur(&c.HeartbeatTTL, 3*c.HeartbeatInterval)
	defDur(&c.RestartGrace, 30*time.Second)
	defDur(&c.StopTimeout, 10*time.Second)
	defDur(&c.ShimTimeout, 10*time.Second)
	defDur(&c.ReadTimeout, 10*time.Second)
	defDur(&c.IdleTimeout, 2*time.Minute)
	// Both caps together leave a quarter of the descriptors for the rest:
	// files, pipes, calls to shims.
	nofile := descriptorLimit()
	defInt(&c.MaxConns, min(max(nofile/4, 16), 4096))
	defInt(&c.MaxShimConns, min(max(nofile/2, 16), 16384))
	if c.DialShim == nil {
		c.DialShim = dialShim
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// descriptorLimit is how many files the daemon may open (Go raised the
// soft limit to the hard one at start).
func descriptorLimit() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 16
	}
	return int(lim.Cur)
}
