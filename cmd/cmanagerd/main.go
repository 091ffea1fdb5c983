// Command cmanagerd is cm's manager daemon: a state machine over
// containers with an HTTP+JSON API on two Unix sockets, one for clients
// (cmctl) and one for the per-container shims. It runs in the foreground
// and stops cleanly on SIGTERM or SIGINT. Package cm/manager/daemon does
// the work; this file only turns flags into its Config.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"cm/manager/daemon"
	"cm/manager/network"
)

// version is set at build time with -ldflags "-X main.version=...".
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

func main() {
	err := run(os.Args[1:])
	if errors.Is(err, pflag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmanagerd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var cfg daemon.Config
	var launcher daemon.ExecLauncher
	var logLevel string
	var showVersion bool
	flags := pflag.NewFlagSet("cmanagerd", pflag.ContinueOnError)
	flags.StringVar(&cfg.StateDir, "state-dir", "/var/lib/cm", "where containers' state, bundles and logs live")
	flags.StringVar(&cfg.Socket, "socket", "/run/cm/cm.sock", "the client API socket")
	flags.StringVar(&cfg.ShimSocket, "shim-socket", "/run/cm/shim.sock", "the shim API socket")
	flags.StringVar(&cfg.SocketGroup, "socket-group", "", "group allowed on the client socket (then 0660; default 0600)")
	flags.StringVar(&cfg.MetricsListen, "metrics-listen", "", "also serve GET /metrics (Prometheus) on this TCP address, e.g. 127.0.0.1:9464 (default: only on --socket)")
	flags.StringVar(&launcher.Binary, "shim", defaultShim(), "the shim binary launched for each container")
	flags.StringVar(&launcher.RuntimeRoot, "runtime-root", "", "passed to shims as --runtime-root")
	flags.Int64Var(&launcher.LogMax, "log-max", 0, "passed to shims as --log-max (bytes before a log is rotated)")
	flags.IntVar(&cfg.Workers, "workers", 4, "executor workers")
	flags.IntVar(&cfg.QueueSize, "queue", 1024, "executor queue capacity")
	flags.IntVar(&cfg.EventRing, "event-ring", 4096, "events kept for /v1/events?since=")
	flags.DurationVar(&cfg.HeartbeatInterval, "heartbeat", 0, "heartbeat interval given to shims (default 2s)")
	flags.DurationVar(&cfg.HeartbeatTTL, "heartbeat-ttl", 0, "silence after which a container is LOST (default 3 heartbeats; it grows with the interval)")
	flags.IntVar(&cfg.HeartbeatBudget, "heartbeat-budget", 200, "heartbeats per second all shims together may send: with more containers, shims are told a longer interval than --heartbeat (0: fixed interval)")
	flags.DurationVar(&cfg.RestartGrace, "restart-grace", 0, "after a restart, how long shims have to speak up (default 30s)")
	flags.DurationVar(&cfg.StopTimeout, "stop-timeout", 0, "default grace period of stop (default 10s)")
	flags.DurationVar(&cfg.ReadTimeout, "read-timeout", 0, "time a client has to send a request's headers, and again its body (default 10s)")
	flags.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "kept-alive connections idle this long are closed (default 2m)")
	flags.IntVar(&cfg.MaxConns, "max-conns", 0, "open connections on the client socket; past it the longest idle one is closed (default a quarter of the descriptor limit, at most 4096)")
	flags.IntVar(&cfg.MaxShimConns, "max-shim-conns", 0, "open connections on the shim socket, one per live shim (default half the descriptor limit, at most 16384)")
	flags.StringVar(&cfg.Network.BinDir, "cni-bin-dir", defaultCNIBinDir(), "the CNI plugins (bridge, host-local, loopback, portmap) for --network none and bridge")
	flags.StringVar(&cfg.Network.Bridge, "network-bridge", network.DefaultBridge, "the host bridge of --network bridge containers")
	flags.StringVar(&cfg.Network.Subnet, "network-subnet", network.DefaultSubnet, "the addresses of --network bridge containers; the bridge gets the first")
	flags.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	flags.BoolVar(&showVersion, "version", false, "print the version and exit")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", flags.Args())
	}
	if showVersion {
		fmt.Printf("cmanagerd %s (commit %s)\n", version, commit)
		return nil
	}
	if err := cfg.Network.Check(); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg.Launcher = launcher
	cfg.Version = version

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d, err := daemon.New(cfg)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// defaultShim is cmshim next to this binary, as `make build` lays them out.
func defaultShim() string {
	exe, err := os.Executable()
	if err != nil {
		return "cmshim"
	}
	return filepath.Join(filepath.Dir(exe), "cmshim")
}

// defaultCNIBinDir is bin/cni next to this binary, where `make cni` puts
// the plugins.
func defaultCNIBinDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "/opt/cm/cni/bin"
	}
	return filepath.Join(filepath.Dir(exe), "cni")
}
