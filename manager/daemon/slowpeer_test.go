package daemon_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager/daemon"
)

// TestSlowPeersAreCut: a peer that sends its request a byte at a time,
// slower than the read timeout, is disconnected (with a 408 when it got
// as far as the body) instead of holding its connection forever.
func TestSlowPeersAreCut(t *testing.T) {
	h := newHarness(t, "none", func(c *daemon.Config) { c.ReadTimeout = 200 * time.Millisecond })
	body := `{"rootfs":"/","args":["sleep"]}`
	body += strings.Repeat(" ", 100-len(body)) // the Content-Length below
	tests := []struct {
		name, socket string
		head, slow   string // sent at once, then a byte every 50 ms
		want         string // the status line, if any answer is due
	}{
		{"slow body on the client socket", h.cfg.Socket,
			"POST /v1/containers HTTP/1.1\r\nHost: cm\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", body, "408"},
		{"slow body on the shim socket", h.cfg.ShimSocket,
			"POST /v1/shim/heartbeat HTTP/1.1\r\nHost: cm\r\nContent-Length: 100\r\n\r\n", body, "408"},
		{"slow headers on the client socket", h.cfg.Socket,
			"GET /v1/info HTTP/1.1\r\n", strings.Repeat("X-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n", 4), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("unix", tt.socket)
			require.NoError(t, err)
			defer conn.Close()
			// Not a threshold: only so that a daemon that waits forever
			// fails the test instead of hanging it.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
			_, err = io.WriteString(conn, tt.head)
			require.NoError(t, err)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // the slow sender: the whole of slow takes 5 s
				for i := range len(tt.slow) {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := conn.Write([]byte{tt.slow[i]}); err != nil {
						return
					}
				}
			}()
			r := bufio.NewReader(conn)
			if tt.want != "" {
				resp, err := http.ReadResponse(r, nil)
				require.NoError(t, err, "the daemon still waits for the slow peer")
				answer, _ := io.ReadAll(resp.Body)
				require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s", answer)
				require.Contains(t, string(answer), "request body")
			}
			_, err = io.ReadAll(r)
			require.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the daemon kept the slow peer's connection open")
		})
	}
}
