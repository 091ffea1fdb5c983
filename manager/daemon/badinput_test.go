package daemon_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
)

// TestBadInput: malformed requests get a clear 4xx whose JSON body names
// the problem, and the daemon keeps serving.
func TestBadInput(t *testing.T) {
	h := newHarness(t, "shim")
	c := h.create("known", "sleep")
	h.waitState(c.ID, manager.Ready)
	huge := `{"name":"` + strings.Repeat("a", 2<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		shim                     bool // on the shim socket
		status                   int
		want                     string
	}{
		{"garbage", "POST", "/v1/containers", `{{{`, false, 400, "body: malformed JSON"},
		{"not an object", "POST", "/v1/containers", `[1,2]`, false, 400, "want a JSON object"},
		{"empty body", "POST", "/v1/containers", ``, false, 400, "body: empty"},
		{"truncated", "POST", "/v1/containers", `{"name":"x"`, false, 400, "truncated"},
		{"trailing data", "POST", "/v1/containers", `{"name":"x"} {}`, false, 400, "unexpected data after"},
		{"unknown field", "POST", "/v1/containers", `{"rootfs":"/","args":["x"],"colour":"red"}`, false, 400, "colour: unknown field"},
		{"wrong type", "POST", "/v1/containers", `{"memory":"lots"}`, false, 400, "memory: want an integer"},
		{"no rootfs", "POST", "/v1/containers", `{"args":["x"]}`, false, 400, "rootfs: give rootfs"},
		{"relative rootfs", "POST", "/v1/containers", `{"rootfs":"r","args":["x"]}`, false, 400, "rootfs: \"r\": must be an absolute path"},
		{"bad namespace", "POST", "/v1/containers", `{"rootfs":"` + h.rootfs + `","args":["x"],"namespaces":["pid","moon"]}`, false, 400, `namespaces[1]: unknown namespace "moon"`},
		{"negative memory", "POST", "/v1/containers", `{"rootfs":"` + h.rootfs + `","args":["x"],"memory":-1}`, false, 400, "memory: must be >= 0"},
		{"bad name", "POST", "/v1/containers", `{"name":"a b","rootfs":"/","args":["x"]}`, false, 400, "name: "},
		{"duplicate name", "POST", "/v1/containers", `{"name":"known","rootfs":"` + h.rootfs + `","args":["x"]}`, false, 409, `name "known"`},
		{"huge body", "POST", "/v1/containers", huge, false, 413, "larger than 1048576 bytes"},
		{"unknown id", "GET", "/v1/containers/nosuch", ``, false, 404, `container "nosuch": no such container`},
		{"unknown id start", "POST", "/v1/containers/nosuch/start", ``, false, 404, "no such container"},
		{"wrong method", "PUT", "/v1/containers", `{}`, false, 405, "method PUT is not allowed on /v1/containers (use GET or POST)"},
		{"wrong method on a container", "POST", "/v1/containers/known", ``, false, 405, "use DELETE or GET"},
		{"no such endpoint", "GET", "/v2/things", ``, false, 404, "no such endpoint"},
		{"bad signal", "POST", "/v1/containers/known/kill", `{"signal":"SIGNOPE"}`, false, 400, "signal: unknown signal"},
		{"missing signal", "POST", "/v1/containers/known/kill", `{}`, false, 400, "signal: required"},
		{"negative stop timeout", "POST", "/v1/containers/known/stop", `{"timeout":-3}`, false, 400, "timeout: must be between"},
		{"bad state filter", "GET", "/v1/containers?state=SLEEPING", ``, false, 400, `state: unknown state "SLEEPING"`},
		{"bad since", "GET", "/v1/events?since=yesterday", ``, false, 400, "since:"},
		{"bad force", "DELETE", "/v1/containers/known?force=maybe", ``, false, 400, "force:"},
		{"shim: unknown state", "POST", "/v1/shim/report", `{"id":"x","state":"NAPPING"}`, true, 400, `state: unknown state "NAPPING"`},
		{"shim: reports STOPPING", "POST", "/v1/shim/report", `{"id":"` + c.ID + `","state":"STOPPING"}`, true, 400, "a shim reports READY, RUNNING or DEAD"},
		{"shim: no id", "POST", "/v1/shim/heartbeat", `{}`, true, 400, "id: required"},
		{"shim: unknown container", "POST", "/v1/shim/heartbeat", `{"id":"nope"}`, true, 404, "unknown container"},
		{"shim: wrong method", "GET", "/v1/shim/report", ``, true, 405, "use POST"},
		{"shim: unknown field", "POST", "/v1/shim/register", `{"id":"x","pid":1,"control":"/s","state":"READY","extra":1}`, true, 400, "extra: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl := h.client
			if tt.shim { // as the shim of the container the body names
				var named struct{ ID string }
				jsonUnmarshal([]byte(tt.body), &named)
				cl = h.shimOf(named.ID)
			}
			status, body, err := cl.Raw(ctxT(t), tt.method, tt.path, []byte(tt.body))
			require.NoError(t, err)
			require.Equal(t, tt.status, status, "body: %s", body)
			var eb struct{ Error string }
			require.NoError(t, jsonUnmarshal(body, &eb), "every error answer is JSON: %s", body)
			require.Contains(t, eb.Error, tt.want)
		})
	}
	// A huge body without a Content-Length is cut off at the limit too.
	status, body := rawStream(t, h.cfg.Socket, "POST", "/v1/containers", strings.NewReader(huge))
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%s", body)
	require.Contains(t, string(body), "larger than 1048576 bytes")

	// Still serving, and nothing was created by the bad requests.
	list, err := h.client.List(ctxT(t))
	require.NoError(t, err)
	require.Len(t, list, 1)
	status, _, err = h.client.Raw(ctxT(t), "GET", "/v1/info", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}
