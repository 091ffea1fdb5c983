package api

import (
	"context"
	"net/http"
	"syscall"

	"cm/shim/proto"
)

// This file is the manager's side of the shim protocol (package
// cm/shim/proto owns its types and paths): Control, the client of a
// shim's control socket, and the shim-socket calls a shim makes, for
// tests and the test shim (package cm/manager/shimtest) to play one.

// Register announces a shim (on the shim socket).
func (c *Client) Register(ctx context.Context, req proto.Register) (proto.RegisterReply, error) {
	var out proto.RegisterReply
	return out, c.Do(ctx, http.MethodPost, proto.PathRegister, req, &out)
}

// Report tells a state change (on the shim socket).
func (c *Client) Report(ctx context.Context, r proto.Report) error {
	return c.Do(ctx, http.MethodPost, proto.PathReport, r, nil)
}

// Heartbeat says the shim of id is alive (on the shim socket).
func (c *Client) Heartbeat(ctx context.Context, id string) error {
	return c.Do(ctx, http.MethodPost, proto.PathHeartbeat, proto.Heartbeat{ID: id}, nil)
}

// Control is the manager's side of a shim's control socket.
type Control struct{ c *Client }

// NewControl makes a client for the shim control socket at path. It keeps
// no idle connection: the manager calls a shim rarely, and makes a new
// Control each time.
func NewControl(path string) *Control { return &Control{c: newClient(path, false)} }

// Start asks the shim to start the container's program.
func (s *Control) Start(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathStart, struct{}{}, nil)
}

// Signal asks the shim to send sig to the container's init.
func (s *Control) Signal(ctx context.Context, sig syscall.Signal) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathSignal, proto.SignalRequest{Signal: int(sig)}, nil)
}

// KillAll asks the shim to SIGKILL every process in the container's cgroup.
func (s *Control) KillAll(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathKillAll, struct{}{}, nil)
}

// Delete asks the shim to delete the container, killing it if it is not
// DEAD, and exit. The manager has already checked rm against the state
// machine, and a shim whose container it forgets would abort anyway.
func (s *Control) Delete(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathDelete, proto.DeleteRequest{Force: true}, nil)
}

// Close drops idle connections.
func (s *Control) Close() { s.c.Close() }

// DeleteKeepLogs is Delete that leaves the container's log files, for a
// restart whose new shim appends to them.
func (s *Control) DeleteKeepLogs(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathDelete, proto.DeleteRequest{Force: true, KeepLogs: true}, nil)
}

// Pause asks the shim to freeze the container.
func (s *Control) Pause(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathPause, struct{}{}, nil)
}

// Resume asks the shim to thaw the container.
func (s *Control) Resume(ctx context.Context) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathResume, struct{}{}, nil)
}

// Update asks the shim to apply resources, an OCI linux.resources object.
func (s *Control) Update(ctx context.Context, resources any) error {
	return s.c.Do(ctx, http.MethodPost, proto.PathUpdate, resources, nil)
}
