package daemon

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
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

// blockingLauncher counts launches; the first one waits until its context
// ends or release is closed, as a slow shim start would.
type blockingLauncher struct {
	launches atomic.Int64
	release  chan struct{}
}

func (l *blockingLauncher) Launch(ctx context.Context, sc ShimConfig) error {
	if l.launches.Add(1) == 1 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.release:
		}
	}
	return nil
}

// TestShutdownDoesNotLaunchQueuedCreates: shutdown does not work through
// the queue of creates (that took 78 s with 1,200 queued); they stay
// CREATING on disk and the next daemon launches them.
func TestShutdownDoesNotLaunchQueuedCreates(t *testing.T) {
	dir := t.TempDir()
	l := &blockingLauncher{release: make(chan struct{})}
	cfg := Config{StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "cm.sock"),
		ShimSocket: filepath.Join(dir, "shim.sock"), Launcher: l, Workers: 1}
	d, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	client := api.NewClient(cfg.Socket)
	defer client.Close()
	rootfs := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	const n = 20
	for i := range n {
		_, err := client.Create(context.Background(), api.CreateRequest{Rootfs: rootfs, Args: []string{"sleep", strconv.Itoa(i)}})
		require.NoError(t, err)
	}
	cancel() // the launch under way ends with its context (before the fix: after jobTimeout)
	require.NoError(t, <-done)
	require.LessOrEqual(t, l.launches.Load(), int64(1), "queued creates were launched during shutdown")

	next := &blockingLauncher{release: make(chan struct{})}
	close(next.release)
	cfg.Launcher = next
	d2, err := New(cfg)
	require.NoError(t, err)
	require.Equal(t, n, d2.table.Len(), "every acknowledged create is kept")
	for _, e := range d2.table.List() {
		require.Equal(t, manager.Creating, e.Snap().State)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- d2.Run(ctx2) }()
	for next.launches.Load() < n {
		time.Sleep(10 * time.Millisecond)
	}
	cancel2()
	require.NoError(t, <-done2)
	require.Equal(t, int64(n), next.launches.Load(), "each is launched once by the next daemon")
}
