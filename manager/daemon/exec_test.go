package daemon_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/manager/execstream"
)

// echoShim is a shim's exec endpoint that echoes stdin frames back as
// stdout and, at the end of stdin, exits with the number of bytes seen.
func echoShim(t *testing.T, got chan<- execstream.Request) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/exec" || r.Header.Get("Upgrade") != execstream.Upgrade {
			w.Write([]byte("{}"))
			return
		}
		var req execstream.Request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		got <- req
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: cm-exec\r\n\r\n")
		brw.Flush()
		out := execstream.NewWriter(conn)
		seen := 0
		for {
			k, p, err := execstream.Read(brw.Reader)
			if err != nil {
				return
			}
			switch k {
			case execstream.Stdin:
				seen += len(p)
				out.Write(execstream.Stdout, p)
			case execstream.CloseStdin:
				out.Write(execstream.Stderr, []byte("bye"))
				out.WriteExit(seen)
				return
			}
		}
	}
}

// TestExecRelay: the daemon passes the request and the frames through to
// the container's shim and back, unchanged, in both directions.
func TestExecRelay(t *testing.T) {
	h := newHarness(t, "none")
	p := newPlayer(t, h)
	got := make(chan execstream.Request, 1)
	p.srv.Handler = echoShim(t, got)
	id := p.reach(t, manager.Running)

	want := api.ExecRequest{Args: []string{"cat"}, Env: []string{"A=1"}, User: "1000:1000", Cwd: "/tmp", Stdin: true, Tty: true, Rows: 40, Cols: 132}
	sess, err := h.client.Exec(ctxT(t), id, want)
	require.NoError(t, err)
	defer sess.Close()
	require.Equal(t, want, <-got)

	require.NoError(t, sess.Out.Write(execstream.Stdin, []byte("hello")))
	k, payload, err := execstream.Read(sess.In)
	require.NoError(t, err)
	require.Equal(t, execstream.Stdout, k)
	require.Equal(t, "hello", string(payload))
	require.NoError(t, sess.Out.Write(execstream.CloseStdin, nil))
	k, payload, err = execstream.Read(sess.In)
	require.NoError(t, err)
	require.Equal(t, execstream.Stderr, k)
	require.Equal(t, "bye", string(payload))
	k, payload, err = execstream.Read(sess.In)
	require.NoError(t, err)
	require.Equal(t, execstream.Exit, k)
	code, err := execstream.ExitCode(payload)
	require.NoError(t, err)
	require.Equal(t, 5, code)
	// After the exit frame the daemon closes the session.
	_, _, err = execstream.Read(sess.In)
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, manager.Running, h.get(id).State, "exec is no transition")
}

// TestExecBadRequest: each wrong request gets one clear error, with the
// status that says whose fault it is, and reaches no shim.
func TestExecBadRequest(t *testing.T) {
	h := newHarness(t, "none")
	p := newPlayer(t, h)
	got := make(chan execstream.Request, 1)
	p.srv.Handler = echoShim(t, got)
	id := p.reach(t, manager.Running)
	for _, tc := range []struct {
		name string
		ref  string
		req  api.ExecRequest
		code int
		msg  string
	}{
		{"no command", id, api.ExecRequest{}, 400, "args: required"},
		{"bad env", id, api.ExecRequest{Args: []string{"true"}, Env: []string{"NOVALUE"}}, 400, `env: "NOVALUE": want KEY=VALUE`},
		{"user by name", id, api.ExecRequest{Args: []string{"true"}, User: "root"}, 400, `user: "root": want UID or UID:GID`},
		{"relative cwd", id, api.ExecRequest{Args: []string{"true"}, Cwd: "tmp"}, 400, `cwd: "tmp": must be an absolute path`},
		{"unknown container", "nosuch", api.ExecRequest{Args: []string{"true"}}, 404, "no such container"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.client.Exec(ctxT(t), tc.ref, tc.req)
			require.Error(t, err)
			require.Equal(t, tc.code, api.StatusOf(err), "%v", err)
			require.Contains(t, err.Error(), tc.msg)
			require.NotContains(t, err.Error(), "\n")
		})
	}
	t.Run("no upgrade", func(t *testing.T) {
		code, body, err := h.client.Raw(ctxT(t), http.MethodPost, "/v1/containers/"+id+"/exec", []byte(`{"args":["true"]}`))
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, code)
		require.Contains(t, string(body), "Upgrade: cm-exec")
	})
	select {
	case req := <-got:
		t.Fatalf("a bad request reached the shim: %+v", req)
	default:
	}
}

// TestExecSessionCap: a session's connection is taken out of the
// socket's connection cap, so sessions have a cap of their own.
func TestExecSessionCap(t *testing.T) {
	h := newHarness(t, "none", func(c *daemon.Config) { c.MaxConns = 2 })
	p := newPlayer(t, h)
	got := make(chan execstream.Request, 3)
	p.srv.Handler = echoShim(t, got)
	id := p.reach(t, manager.Running)
	for range 2 {
		sess, err := h.client.Exec(ctxT(t), id, api.ExecRequest{Args: []string{"cat"}})
		require.NoError(t, err)
		defer sess.Close()
	}
	_, err := h.client.Exec(ctxT(t), id, api.ExecRequest{Args: []string{"cat"}})
	require.Error(t, err)
	require.Equal(t, http.StatusServiceUnavailable, api.StatusOf(err), "%v", err)
	require.Contains(t, err.Error(), "2 exec sessions are open")
}
