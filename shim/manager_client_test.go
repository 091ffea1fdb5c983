package shim

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/shim/proto"
)

// TestManagerClientAnswers: only the manager's deliberate JSON 404 means
// "unknown container"; anything else is an error to retry.
func TestManagerClientAnswers(t *testing.T) {
	tests := []struct {
		name        string
		code        int
		body        string
		wantErr     bool
		wantUnknown bool
	}{
		{name: "ok", code: 200, body: `{"heartbeatInterval":250}`},
		{name: "unknown container", code: 404, body: `{"error":"unknown container"}`, wantErr: true, wantUnknown: true},
		{name: "plain 404 of a server without the endpoint", code: 404, body: "404 page not found", wantErr: true},
		{name: "server error", code: 500, body: `{"error":"disk full"}`, wantErr: true},
		{name: "shutting down", code: 503, body: `{"error":"shutting down"}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "m.sock")
			ln, err := net.Listen("unix", sock)
			require.NoError(t, err)
			srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				w.Write([]byte(tc.body))
			})}}
			srv.Start()
			defer srv.Close()

			var reply proto.RegisterReply
			err = newManagerClient(sock, "").post(t.Context(), proto.PathRegister, proto.Register{ID: "c"}, &reply)
			if !tc.wantErr {
				require.NoError(t, err)
				require.Equal(t, proto.Interval(250e6), reply.HeartbeatInterval)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.wantUnknown, errors.Is(err, ErrUnknownContainer))
		})
	}
}
