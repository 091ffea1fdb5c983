package shim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
)

// ControlClient talks to one shim's control socket. The manager's
// executor can use it for start, stop (signal, then kill-all) and delete.
type ControlClient struct{ c *unixClient }

// NewControlClient returns a client of the control socket at path.
func NewControlClient(path string) *ControlClient {
	return &ControlClient{newUnixClient(path, controlTimeout)}
}

// Start runs the user's program and returns the container init's pid.
func (cc *ControlClient) Start(ctx context.Context) (int, error) {
	var reply ControlReply
	err := cc.post(ctx, PathStart, nil, &reply)
	return reply.Pid, err
}

// Signal sends sig to the container's init.
func (cc *ControlClient) Signal(ctx context.Context, sig syscall.Signal) error {
	return cc.post(ctx, PathSignal, SignalRequest{Signal: int(sig)}, nil)
}

// KillAll sends SIGKILL to every process of the container.
func (cc *ControlClient) KillAll(ctx context.Context) error {
	return cc.post(ctx, PathKillAll, nil, nil)
}

// Delete removes the container (killing it first with force) and makes
// the shim exit.
func (cc *ControlClient) Delete(ctx context.Context, force bool) error {
	return cc.post(ctx, PathDelete, DeleteRequest{Force: force}, nil)
}

// State returns the shim's latest report.
func (cc *ControlClient) State(ctx context.Context) (Report, error) {
	var r Report
	err := cc.c.call(ctx, http.MethodGet, PathState, nil, &r)
	return r, err
}

func (cc *ControlClient) post(ctx context.Context, path string, in, out any) error {
	err := cc.c.call(ctx, http.MethodPost, path, in, out)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusConflict {
		return fmt.Errorf("%w: %v", ErrWrongState, err)
	}
	return err
}
