package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"

	"cm/manager/execstream"
)

// ExecRequest describes a process to run in a RUNNING container.
type ExecRequest = execstream.Request

// ExecSession is an exec the daemon accepted: read the process's output
// frames from In and send input frames with Out (package execstream).
type ExecSession struct {
	Conn net.Conn
	In   *bufio.Reader
	Out  *execstream.Writer
}

// Close ends the session; a process still running is killed.
func (s *ExecSession) Close() error { return s.Conn.Close() }

// Exec asks the daemon to run a process in container ref. A refusal (409
// when the container is not RUNNING) is an *Error; an accepted exec has
// its own connection, upgraded to the exec frames.
func (c *Client) Exec(ctx context.Context, ref string, req ExecRequest) (*ExecSession, error) {
	path := containerPath(ref, "/exec")
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode POST %s: %w", path, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.socket)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	resp, in, err := execstream.Handshake(conn, "http://cm"+path, body)
	if err != nil {
		stop()
		conn.Close()
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		stop()
		defer conn.Close()
		if resp.StatusCode < 400 {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			return nil, &Error{Status: resp.StatusCode, Message: fmt.Sprintf("POST %s: %s, not 101 Switching Protocols", path, resp.Status)}
		}
		return nil, readError(resp)
	}
	return &ExecSession{Conn: conn, In: in, Out: execstream.NewWriter(conn)}, nil
}
