package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/manager/shimtest"
)

// harness is a daemon serving on temporary sockets, with clients for both.
type harness struct {
	t        testing.TB
	d        *daemon.Daemon
	cfg      daemon.Config
	client   *api.Client // the client socket
	shimAPI  *api.Client // the shim socket without a token: any root process
	launcher *fakeLauncher
	rootfs   string
	stop     func() error

	shimsMu sync.Mutex
	shims   map[string]*api.Client // shimOf's clients
}

// newHarness starts a daemon; mode "shim" launches in-process fake shims,
// "none" launches nothing (the test plays the shim).
func newHarness(t testing.TB, mode string, tune ...func(*daemon.Config)) *harness {
	t.Helper()
	dir := t.TempDir()
	l := &fakeLauncher{mode: mode, shims: map[string]*shimtest.Shim{}}
	cfg := daemon.Config{
		StateDir: filepath.Join(dir, "state"), Socket: filepath.Join(dir, "cm.sock"), ShimSocket: filepath.Join(dir, "shim.sock"),
		HeartbeatInterval: 50 * time.Millisecond, HeartbeatTTL: time.Second, RestartGrace: 2 * time.Second,
		Launcher: l,
	}
	for _, f := range tune {
		f(&cfg)
	}
	h := &harness{t: t, cfg: cfg, launcher: l, rootfs: filepath.Join(dir, "rootfs")}
	require.NoError(t, os.Mkdir(h.rootfs, 0o755))
	h.start()
	t.Cleanup(func() {
		require.NoError(t, h.stop())
		l.closeAll()
	})
	return h
}

// start runs a daemon on the harness's config (again, after a stop).
func (h *harness) start() {
	d, err := daemon.New(h.cfg)
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	h.d = d
	h.client, h.shimAPI = api.NewClient(h.cfg.Socket), api.NewClient(h.cfg.ShimSocket)
	var once sync.Once
	var runErr error
	h.stop = func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
			h.client.Close()
			h.shimAPI.Close()
		})
		return runErr
	}
}

// shimOf is a client of the shim socket that proves itself the shim of
// container id (with its token), to play that shim.
func (h *harness) shimOf(id string) *api.Client {
	h.shimsMu.Lock()
	defer h.shimsMu.Unlock()
	if h.shims == nil {
		h.shims = map[string]*api.Client{}
		h.t.Cleanup(func() {
			h.shimsMu.Lock()
			defer h.shimsMu.Unlock()
			for _, c := range h.shims {
				c.Close()
			}
		})
	}
	if c := h.shims[id]; c != nil {
		return c
	}
	c := api.NewShimClient(h.cfg.ShimSocket, h.d.ShimToken(id))
	h.shims[id] = c
	return c
}

// control is where the daemon expects the control socket of container id.
func (h *harness) control(id string) string {
	return filepath.Join(h.cfg.StateDir, "containers", id, "shim.sock")
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// create makes a container running the fake workload script args.
func (h *harness) create(name string, args ...string) api.Container {
	h.t.Helper()
	c, err := h.client.Create(ctxT(h.t), api.CreateRequest{Name: name, Rootfs: h.rootfs, Args: args})
	require.NoError(h.t, err)
	require.Equal(h.t, manager.Creating, c.State)
	return c
}

func (h *harness) get(id string) api.Container {
	h.t.Helper()
	c, err := h.client.Get(ctxT(h.t), id)
	require.NoError(h.t, err)
	return c
}

// waitState waits until the container is in state s, and checks it is.
func (h *harness) waitState(id string, s manager.State) api.Container {
	h.t.Helper()
	c, err := h.client.Wait(ctxT(h.t), id, s)
	require.NoError(h.t, err)
	require.Equal(h.t, s, c.State, "container %s: %+v", id, c)
	return c
}

// fakeLauncher launches in-process fake shims, or (mode "none") nothing.
// A workload script "no-launch" makes the launch fail.
type fakeLauncher struct {
	mode  string
	mu    sync.Mutex
	shims map[string]*shimtest.Shim
}

func (l *fakeLauncher) Launch(ctx context.Context, sc daemon.ShimConfig) error {
	data, err := os.ReadFile(filepath.Join(sc.Bundle, "config.json"))
	if err != nil {
		return err
	}
	var spec struct{ Process struct{ Args []string } }
	if err := json.Unmarshal(data, &spec); err != nil {
		return err
	}
	if spec.Process.Args[0] == "no-launch" {
		return errors.New("launch refused by the test")
	}
	if l.mode == "none" {
		return nil
	}
	s, err := shimtest.Start(shimtest.Config{ID: sc.ID, Bundle: sc.Bundle, StateDir: sc.StateDir, Manager: sc.ManagerSocket, Token: sc.Token})
	if err != nil {
		return err
	}
	if sc.Lock != nil {
		// The shim lock, held while the fake shim lives, as cmshim holds it.
		fd, err := unix.Dup(int(sc.Lock.Fd()))
		if err != nil {
			s.Close()
			return err
		}
		lock := os.NewFile(uintptr(fd), sc.Lock.Name())
		go func() { <-s.Done(); lock.Close() }()
	}
	l.mu.Lock()
	l.shims[sc.ID] = s
	l.mu.Unlock()
	return nil
}

func (l *fakeLauncher) shim(id string) *shimtest.Shim {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.shims[id]
}

func (l *fakeLauncher) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.shims {
		s.Close()
	}
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// rawStream sends a body of unknown length (chunked), as a client
// streaming its request would.
func rawStream(t testing.TB, socket, method, path string, body io.Reader) (int, []byte) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", socket)
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctxT(t), method, "http://cm"+path, io.NopCloser(body))
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}
