package daemon

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
)

type nopLauncher struct{}

func (nopLauncher) Launch(context.Context, ShimConfig) error { return nil }

// runBareDaemon runs a daemon without shims on a temp directory; Run's
// result arrives on done once cancel is called.
func runBareDaemon(t *testing.T) (cfg Config, d *Daemon, cancel context.CancelFunc, done chan error) {
	dir := t.TempDir()
	cfg = Config{StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "cm.sock"),
		ShimSocket: filepath.Join(dir, "shim.sock"), Launcher: nopLauncher{}}
	d, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return cfg, d, cancel, done
}

// TestShutdown: once shutdown begins new requests get 503; then streams
// end, Run returns and the sockets are gone.
func TestShutdown(t *testing.T) {
	cfg, d, cancel, done := runBareDaemon(t)

	client, shim := api.NewClient(cfg.Socket), api.NewClient(cfg.ShimSocket)
	events, err := client.Events(context.Background(), nil)
	require.NoError(t, err)

	d.draining.Store(true) // what Run does first when ctx ends
	for _, c := range []*api.Client{client, shim} {
		status, body, err := c.Raw(context.Background(), "GET", "/v1/info", nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.JSONEq(t, `{"error":"cmanagerd is shutting down"}`, string(body))
	}

	cancel()
	require.NoError(t, <-done)
	_, err = events.Next()
	require.Error(t, err, "the event stream ended")
	require.NoFileExists(t, cfg.Socket)
	require.NoFileExists(t, cfg.ShimSocket)

	// The state directory is free for the next daemon.
	d2, err := New(cfg)
	require.NoError(t, err)
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	require.NoError(t, d2.Run(ctx2))
}

// TestSecondDaemonRefused: one state directory, one socket, one daemon.
func TestSecondDaemonRefused(t *testing.T) {
	cfg, _, cancel, done := runBareDaemon(t)
	defer func() { cancel(); <-done }()

	_, err := New(cfg)
	require.ErrorContains(t, err, "in use by another cmanagerd")
	other := cfg
	other.StateDir = filepath.Join(filepath.Dir(cfg.StateDir), "other")
	_, err = New(other)
	require.ErrorContains(t, err, "another daemon is listening on it")
}
