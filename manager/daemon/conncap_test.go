package daemon_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/shim/proto"
)

// TestConnectionCap: past MaxConns a new client gets in by closing the
// connection idle the longest; when every connection is busy with a
// request, it gets a 503 at once rather than waiting.
func TestConnectionCap(t *testing.T) {
	const maxConns = 4
	h := newHarness(t, "none", func(c *daemon.Config) { c.MaxConns = maxConns })

	t.Run("idle connections make room", func(t *testing.T) {
		idle := make([]net.Conn, maxConns+10)
		for i := range idle {
			c, err := net.Dial("unix", h.cfg.Socket)
			require.NoError(t, err)
			defer c.Close()
			idle[i] = c
		}
		cl := api.NewClient(h.cfg.Socket)
		defer cl.Close()
		_, err := cl.Info(ctxT(t))
		require.NoError(t, err)
		// The oldest were closed by the daemon (the newest may be too,
		// to let the client in).
		for i, c := range idle[:len(idle)-maxConns] {
			require.NoError(t, c.SetReadDeadline(time.Now().Add(20*time.Second)))
			_, err := c.Read(make([]byte, 1))
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "idle connection %d is still open", i)
		}
	})

	t.Run("busy connections are not cut", func(t *testing.T) {
		c := h.create("", "sleep")
		cl := api.NewClient(h.cfg.Socket)
		defer cl.Close()
		// Streams: once their answer has begun, their connections are busy.
		var streams []*api.EventStream
		for range maxConns {
			s, err := cl.Events(ctxT(t), nil)
			require.NoError(t, err)
			defer s.Close()
			streams = append(streams, s)
		}
		_, err := api.NewClient(h.cfg.Socket).Info(ctxT(t))
		require.Equal(t, http.StatusServiceUnavailable, api.StatusOf(err), "%v", err)
		require.ErrorContains(t, err, "connections are busy")

		// The streams carry on: a change (by the shim socket, which has
		// room) reaches every one.
		_, err = h.shimOf(c.ID).Register(ctxT(t), proto.Register{ID: c.ID, Pid: os.Getpid(), Control: h.control(c.ID), State: proto.StateReady})
		require.NoError(t, err)
		for _, s := range streams {
			ev, err := s.Next()
			require.NoError(t, err)
			require.Equal(t, c.ID, ev.ID)
		}
	})
}

// TestStreamsOutliveReadTimeout: events, wait and logs --follow answer
// for as long as they need, far past the read and idle timeouts.
func TestStreamsOutliveReadTimeout(t *testing.T) {
	h := newHarness(t, "shim", func(c *daemon.Config) { c.ReadTimeout, c.IdleTimeout = 50*time.Millisecond, 50*time.Millisecond })
	c := h.create("", "sleep")
	h.waitState(c.ID, manager.Ready)
	events, err := h.client.Events(ctxT(t), nil)
	require.NoError(t, err)
	defer events.Close()
	logs, err := h.client.Logs(ctxT(t), c.ID, true)
	require.NoError(t, err)
	defer logs.Close()
	waited := make(chan error, 1)
	go func() {
		_, err := api.NewClient(h.cfg.Socket).Wait(ctxT(t), c.ID, manager.Dead)
		waited <- err
	}()

	time.Sleep(10 * 50 * time.Millisecond) // ten timeouts pass
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	_, err = h.client.Kill(ctxT(t), c.ID, "KILL")
	require.NoError(t, err)

	require.NoError(t, <-waited)
	ev, err := events.Next()
	require.NoError(t, err)
	require.Equal(t, c.ID, ev.ID)
	out, err := io.ReadAll(logs)
	require.NoError(t, err)
	require.Contains(t, string(out), "got signal 9")
}
