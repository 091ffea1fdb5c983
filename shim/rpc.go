package shim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"cm/shim/proto"
)

// unixClient sends JSON requests over HTTP to one Unix socket. The shim
// uses it to reach the manager, its tests to reach a shim.
type unixClient struct {
	http *http.Client
	// dials counts connections made. Requests share one kept-alive
	// connection, so a new one means the old one broke, perhaps because
	// the server restarted.
	dials atomic.Int64
	// token, if set, goes with every request as a bearer token: the
	// manager's proof that the message comes from this shim.
	token string
}

// managerTimeout bounds one request: a hung manager then looks like a
// down one.
const managerTimeout = 10 * time.Second

func newUnixClient(socket string, timeout time.Duration) *unixClient {
	c := &unixClient{}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		c.dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}
	c.http = &http.Client{
		Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 1},
		Timeout:   timeout,
	}
	return c
}

// StatusError is an answer other than 200.
type StatusError struct {
	Code    int    // the HTTP status
	Message string // the "error" of a JSON proto.ErrorReply; empty if the body was not one
	Body    string // the raw body, for messages
}

func (e *StatusError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// call sends in (nil: no body) to path and decodes a 200 answer into out
// (nil: ignore it). Any other answer is a *StatusError.
func (c *unixClient) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	// The host part is ignored: the transport always dials the socket.
	req, err := http.NewRequestWithContext(ctx, method, "http://unix"+path, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		proto.SetToken(req.Header, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
		var reply proto.ErrorReply
		if json.Unmarshal(data, &reply) == nil {
			e.Message = reply.Error
		}
		return fmt.Errorf("%s %s: %w", method, path, e)
	}
	// An empty answer leaves out as it is: a manager that has nothing to
	// say in a reply (an older one, to a heartbeat) may send no body.
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}
