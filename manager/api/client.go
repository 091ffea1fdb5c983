package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cm/manager"
	"cm/shim/proto"
)

// Error is an answer with a status of 400 or more.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// StatusOf returns the HTTP status of an *Error, or 0 for any other error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Client speaks HTTP to one Unix socket: the daemon's client socket, its
// shim socket, or a shim's control socket.
type Client struct {
	socket string
	http   *http.Client
	token  string // a shim's token, sent as "Authorization: Bearer TOKEN"
}

// NewClient makes a client for the socket at path.
func NewClient(path string) *Client { return newClient(path, true) }

// NewShimClient makes a client for the shim socket at path that proves
// itself the shim of a container: it sends that container's token (given
// to the shim at launch) with every request.
func NewShimClient(path, token string) *Client {
	c := newClient(path, true)
	c.token = token
	return c
}

func newClient(path string, keepAlive bool) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		MaxIdleConnsPerHost: 64,
		DisableKeepAlives:   !keepAlive,
	}
	return &Client{socket: path, http: &http.Client{Transport: tr}}
}

// Close drops idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Raw sends one request with a raw body and returns the status and body:
// for tests and tools that want to see exactly what the daemon says.
func (c *Client) Raw(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	resp, err := c.send(ctx, method, path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func (c *Client) send(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://cm"+path, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		proto.SetToken(req.Header, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // it repeats the method and a made-up URL
		}
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// stream sends a request and returns the body of a successful answer.
func (c *Client) stream(ctx context.Context, method, path string, in any) (io.ReadCloser, error) {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp.Body, nil
}

// Do sends in (if not nil) as JSON and decodes the answer into out (if not nil).
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	body, err := c.stream(ctx, method, path, in)
	if err != nil {
		return err
	}
	defer body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, body)
		return err
	}
	if err := json.NewDecoder(body).Decode(out); err != nil {
		return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
	}
	return nil
}

func readError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb ErrorBody
	if json.Unmarshal(data, &eb) == nil && eb.Error != "" {
		return &Error{Status: resp.StatusCode, Message: eb.Error}
	}
	return &Error{Status: resp.StatusCode, Message: fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(data)))}
}

func containerPath(ref string, rest ...string) string {
	return "/v1/containers/" + url.PathEscape(ref) + strings.Join(rest, "")
}

func stateQuery(states []manager.State) string {
	if len(states) == 0 {
		return ""
	}
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = s.String()
	}
	return "?state=" + strings.Join(names, ",")
}

// Create asks for a new container; it answers at once, in CREATING.
func (c *Client) Create(ctx context.Context, req CreateRequest) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, "/v1/containers", req, &out)
}

// List returns the containers, only those in states if any are given.
func (c *Client) List(ctx context.Context, states ...manager.State) ([]Container, error) {
	var out []Container
	return out, c.ListInto(ctx, &out, nil, states...)
}

// ListFiltered returns the containers every filter matches: "state=S",
// "label=K" or "label=K=V", "name=N", "id=PREFIX" (podman's filters),
// only those in states if any are given.
func (c *Client) ListFiltered(ctx context.Context, filters []string, states ...manager.State) ([]Container, error) {
	var out []Container
	return out, c.ListInto(ctx, &out, filters, states...)
}

// ListInto decodes the list (see ListFiltered) into out, a pointer to a
// slice of any struct with some of Container's fields: a caller that
// needs a few of them from thousands of containers decodes only those.
func (c *Client) ListInto(ctx context.Context, out any, filters []string, states ...manager.State) error {
	path := "/v1/containers" + stateQuery(states)
	if len(filters) > 0 {
		q := url.Values{"filter": filters}
		if len(states) > 0 {
			q.Set("state", strings.TrimPrefix(stateQuery(states), "?state="))
		}
		path = "/v1/containers?" + q.Encode()
	}
	return c.Do(ctx, http.MethodGet, path, nil, out)
}

// Pause freezes every process of a RUNNING container.
func (c *Client) Pause(ctx context.Context, ref string) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/pause"), struct{}{}, &out)
}

// Resume thaws a PAUSED container.
func (c *Client) Resume(ctx context.Context, ref string) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/resume"), struct{}{}, &out)
}

// Update changes a container's cgroup limits.
func (c *Client) Update(ctx context.Context, ref string, req UpdateRequest) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/update"), req, &out)
}

// Get returns one container, by id or name.
func (c *Client) Get(ctx context.Context, ref string) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodGet, containerPath(ref), nil, &out)
}

// Start asks the shim to start the program and returns once it runs.
func (c *Client) Start(ctx context.Context, ref string) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/start"), struct{}{}, &out)
}

// Stop moves the container to STOPPING; Wait for it to be DEAD.
func (c *Client) Stop(ctx context.Context, ref string, req StopRequest) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/stop"), req, &out)
}

// Kill sends a signal, by name or number.
func (c *Client) Kill(ctx context.Context, ref, signal string) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodPost, containerPath(ref, "/kill"), KillRequest{Signal: signal}, &out)
}

// Delete forgets a DEAD or LOST container, or with force any container.
func (c *Client) Delete(ctx context.Context, ref string, force bool) (Container, error) {
	var out Container
	q := ""
	if force {
		q = "?force=1"
	}
	return out, c.Do(ctx, http.MethodDelete, containerPath(ref, q), nil, &out)
}

// Wait returns once the container is in one of states (default DEAD or
// LOST) or in a state nothing leaves.
func (c *Client) Wait(ctx context.Context, ref string, states ...manager.State) (Container, error) {
	var out Container
	return out, c.Do(ctx, http.MethodGet, containerPath(ref, "/wait", stateQuery(states)), nil, &out)
}

// Logs streams the container's log file; with follow, until it is DEAD.
func (c *Client) Logs(ctx context.Context, ref string, follow bool) (io.ReadCloser, error) {
	q := ""
	if follow {
		q = "?follow=1"
	}
	return c.stream(ctx, http.MethodGet, containerPath(ref, "/logs", q), nil)
}

// Info describes the daemon.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var out Info
	return out, c.Do(ctx, http.MethodGet, "/v1/info", nil, &out)
}

// WaitUp returns once the daemon answers, trying every 20 ms, or with
// the last error when ctx ends: for whoever has just started it.
func (c *Client) WaitUp(ctx context.Context) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, time.Second)
		_, err := c.Info(attempt)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("daemon on %s did not answer: %w", c.socket, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// EventStream reads GET /v1/events one event at a time.
type EventStream struct {
	body io.ReadCloser
	scan *bufio.Scanner
}

// Events subscribes to the event stream, after since if it is not nil.
func (c *Client) Events(ctx context.Context, since *uint64) (*EventStream, error) {
	path := "/v1/events"
	if since != nil {
		path += "?since=" + strconv.FormatUint(*since, 10)
	}
	body, err := c.stream(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	scan := bufio.NewScanner(body)
	scan.Buffer(make([]byte, 64<<10), 1<<20)
	return &EventStream{body: body, scan: scan}, nil
}

// Next returns the next event; it blocks until one arrives.
func (s *EventStream) Next() (Event, error) {
	if !s.scan.Scan() {
		if err := s.scan.Err(); err != nil {
			return Event{}, fmt.Errorf("read events: %w", err)
		}
		return Event{}, io.EOF
	}
	var ev Event
	if err := json.Unmarshal(s.scan.Bytes(), &ev); err != nil {
		return Event{}, fmt.Errorf("decode event %q: %w", s.scan.Text(), err)
	}
	return ev, nil
}

// Line returns the raw NDJSON line of the last event Next read.
func (s *EventStream) Line() []byte { return s.scan.Bytes() }

// Close ends the subscription.
func (s *EventStream) Close() error { return s.body.Close() }
