package daemon_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
	"cm/manager/daemon"
)

const peerHelperEnv = "CM_TEST_PEER_HELPER"

func TestMain(m *testing.M) {
	if socket := os.Getenv(peerHelperEnv); socket != "" {
		peerHelper(socket)
		return
	}
	os.Exit(m.Run())
}

// Optional settings of the peer helper: the path and body it posts
// (default: a heartbeat of container "x").
const (
	peerPathEnv  = "CM_TEST_PEER_PATH"
	peerBodyEnv  = "CM_TEST_PEER_BODY"
	peerTokenEnv = "CM_TEST_PEER_TOKEN" // sent as a shim's token, if set
)

// peerHelper is this test binary run as another process (another user,
// or root but not a shim): it calls the shim socket and prints the status
// and body it got.
func peerHelper(socket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path, body := os.Getenv(peerPathEnv), os.Getenv(peerBodyEnv)
	if path == "" {
		path, body = "/v1/shim/heartbeat", `{"id":"x"}`
	}
	status, answer, err := api.NewShimClient(socket, os.Getenv(peerTokenEnv)).Raw(ctx, "POST", path, []byte(body))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("%d %s", status, answer)
}

// TestShimSocketPeerCredentials: even with the shim socket opened to
// everyone, only root (or the daemon's uid) gets past SO_PEERCRED.
func TestShimSocketPeerCredentials(t *testing.T) {
	dir, err := os.MkdirTemp("", "cm-peer-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755)) // so nobody can reach the socket
	h := newHarness(t, "none", func(c *daemon.Config) {
		c.Socket, c.ShimSocket = filepath.Join(dir, "cm.sock"), filepath.Join(dir, "shim.sock")
	})
	st, err := os.Stat(h.cfg.ShimSocket)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the shim socket is created 0600")
	require.NoError(t, os.Chmod(h.cfg.ShimSocket, 0o666)) // leave only the credential check

	self, err := os.Executable()
	require.NoError(t, err)
	helper := filepath.Join(dir, "helper")
	copyFile(t, self, helper)

	tests := []struct {
		name string
		cred *syscall.Credential
		want string
	}{
		{"root passes the check", nil, `404 {"error":"unknown container"}`},
		{"nobody is refused", &syscall.Credential{Uid: 65534, Gid: 65534}, `403 {"error":"shim socket: uid 65534 may not call it (only root or uid 0)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(helper)
			cmd.Env = []string{peerHelperEnv + "=" + h.cfg.ShimSocket}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: tt.cred}
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Equal(t, tt.want, strings.TrimSpace(string(out)))
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}
