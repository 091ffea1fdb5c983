package daemon_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
	"cm/shim/proto"
)

// FuzzAPI feeds arbitrary bodies to the handlers that read one, over the
// real sockets. Whatever the body, the answer is a deliberate status (never
// a 500) with a JSON error body when it is an error. Its seed corpus runs
// in plain go test; fuzz with: go test -fuzz FuzzAPI ./manager/daemon
func FuzzAPI(f *testing.F) {
	h := newHarness(f, "none")
	c := h.create("fuzz", "sleep")
	// A registered shim whose control socket does not listen: orders to it fail (502).
	// Its token goes with every shim request: bodies about other
	// containers get 403.
	shim := h.shimOf(c.ID)
	_, err := shim.Register(ctxT(f), proto.Register{ID: c.ID, Pid: os.Getpid(), Control: h.control(c.ID), State: proto.StateReady})
	require.NoError(f, err)

	routes := []struct {
		shim         bool
		method, path string
	}{
		{false, "POST", "/v1/containers"},
		{false, "POST", "/v1/containers/fuzz/stop"},
		{false, "POST", "/v1/containers/fuzz/kill"},
		{false, "POST", "/v1/containers/fuzz/start"},
		{true, "POST", "/v1/shim/register"},
		{true, "POST", "/v1/shim/report"},
		{true, "POST", "/v1/shim/heartbeat"},
	}
	seeds := []struct {
		route uint8
		body  string
	}{
		{0, `{"rootfs":"/","args":["sleep"],"memory":1048576,"pids":10,"env":["A=1"],"namespaces":["pid","mnt"]}`},
		{0, `{"bundle":"/nonexistent"}`},
		{0, `{"name":"","rootfs":"/","args":[""]}`},
		{0, `{"rootfs":"/","args":["x"],"memory":1e30}`},
		{0, "\x00\xff"},
		{1, `{"timeout":1e308}`},
		{1, `{"signal":"RTMIN+3"}`},
		{2, `{"signal":"999"}`},
		{2, `{"signal":9}`},
		{3, `null`},
		{4, `{"id":"fuzz","pid":-1,"control":"x","state":"READY"}`},
		{5, `{"id":"fuzz","state":"DEAD","exitCode":-2147483649,"seq":18446744073709551615}`},
		{6, `{"id":["fuzz"]}`},
	}
	for _, s := range seeds {
		f.Add(s.route, []byte(s.body))
	}
	allowed := []int{http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
		http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusBadGateway}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		cl := h.client
		if r.shim {
			cl = shim
		}
		status, resp, err := cl.Raw(ctxT(t), r.method, r.path, body)
		require.NoError(t, err)
		require.Contains(t, allowed, status, "%s %s %q → %d %s", r.method, r.path, body, status, resp)
		if status >= 400 {
			var eb api.ErrorBody
			require.NoError(t, jsonUnmarshal(resp, &eb), "%s", resp)
			require.NotEmpty(t, eb.Error)
		}
	})
}
