package shim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"syscall"
	"time"

	"cm/shim/proto"
)

// ControlClient talks to one shim's control socket, for the tests: the
// manager has its own (package cm/manager/api). It lives in a test file of
// package shim to reuse unixClient, and is exported for package shim_test.
type ControlClient struct{ c *unixClient }

// controlTimeout is one request's: kill-all and delete may wait up to
// about 15 s for stubborn processes.
const controlTimeout = 30 * time.Second

// NewControlClient returns a client of the control socket at path.
func NewControlClient(path string) *ControlClient {
	return &ControlClient{newUnixClient(path, controlTimeout)}
}

// Start runs the user's program and returns the container init's pid.
func (cc *ControlClient) Start(ctx context.Context) (int, error) {
	var reply proto.ControlReply
	err := cc.post(ctx, proto.PathStart, nil, &reply)
	return reply.Pid, err
}

// Signal sends sig to the container's init.
func (cc *ControlClient) Signal(ctx context.Context, sig syscall.Signal) error {
	return cc.post(ctx, proto.PathSignal, proto.SignalRequest{Signal: int(sig)}, nil)
}

// KillAll sends SIGKILL to every process of the container.
func (cc *ControlClient) KillAll(ctx context.Context) error {
	return cc.post(ctx, proto.PathKillAll, nil, nil)
}

// Delete removes the container (killing it first with force) and makes
// the shim exit.
func (cc *ControlClient) Delete(ctx context.Context, force bool) error {
	return cc.post(ctx, proto.PathDelete, proto.DeleteRequest{Force: force}, nil)
}

// State returns the shim's latest report.
func (cc *ControlClient) State(ctx context.Context) (proto.Report, error) {
	var r proto.Report
	err := cc.c.call(ctx, http.MethodGet, proto.PathState, nil, &r)
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

// Pause freezes the container.
func (cc *ControlClient) Pause(ctx context.Context) error {
	return cc.post(ctx, proto.PathPause, nil, nil)
}

// Resume thaws the container.
func (cc *ControlClient) Resume(ctx context.Context) error {
	return cc.post(ctx, proto.PathResume, nil, nil)
}

// Update applies resources, a linux.resources object.
func (cc *ControlClient) Update(ctx context.Context, resources any) error {
	return cc.post(ctx, proto.PathUpdate, resources, nil)
}
