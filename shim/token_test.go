package shim

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/shim/proto"
)

// TestTokenReachesTheManager: the token read from its pipe goes with
// every message as a bearer token; without one, no Authorization at all.
func TestTokenReachesTheManager(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "m.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	got := make(chan string, 4)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
		w.Write([]byte("{}"))
	})}}
	srv.Start()
	defer srv.Close()

	p, err := proto.TokenPipe("0123abcd")
	require.NoError(t, err)
	// The token arrives as a bare inherited descriptor.
	fd, err := unix.Dup(int(p.Fd()))
	p.Close()
	require.NoError(t, err)
	token, err := proto.ReadToken(fd)
	require.NoError(t, err)
	require.Equal(t, "0123abcd", token)

	require.NoError(t, newManagerClient(sock, token).post(t.Context(), proto.PathHeartbeat, proto.Heartbeat{ID: "c"}, nil))
	require.Equal(t, "Bearer 0123abcd", <-got)
	require.NoError(t, newManagerClient(sock, "").post(t.Context(), proto.PathHeartbeat, proto.Heartbeat{ID: "c"}, nil))
	require.Equal(t, "", <-got)
}
