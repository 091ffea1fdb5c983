package daemon

import (
	"context"
	"syscall"

	"cm/manager/api"
)

// ShimClient is what the executor asks of a container's shim, through the
// control socket the shim registered. Tests give the daemon fakes.
type ShimClient interface {
	Start(ctx context.Context) error
	Signal(ctx context.Context, sig syscall.Signal) error
	KillAll(ctx context.Context) error
	Delete(ctx context.Context) error
}

// dialShim is the real ShimClient: HTTP on the shim's control socket.
func dialShim(control string) ShimClient { return api.NewControl(control) }
