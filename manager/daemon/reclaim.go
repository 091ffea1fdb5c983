package daemon

import (
	"context"
	"errors"
	"fmt"

	"cm/runtime"
)

// Reclaimer is a Launcher that can also remove what is left of a container
// whose shim is gone: its processes, its cgroup and the runtime's state.
// The shim normally does that when it is deleted, but a LOST container's
// shim is usually dead, and rm must not leave the container running with
// nobody watching it. Only the launcher knows where its shims keep the
// runtime's state, so it is the launcher that reclaims.
type Reclaimer interface {
	Reclaim(ctx context.Context, id string) error
}

// Reclaim SIGKILLs every process in the container's cgroup, removes the
// cgroup and the runtime's state. A container the runtime does not know
// (the shim deleted it, or never created it) is not an error.
func (l ExecLauncher) Reclaim(ctx context.Context, id string) error {
	root := l.RuntimeRoot
	if root == "" {
		root = runtime.DefaultRoot // cmshim's, when the launcher sets no --runtime-root
	}
	if err := runtime.Delete(root, id, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return fmt.Errorf("reclaim container %s: %w", id, err)
	}
	return nil
}

// reclaim removes what a container whose shim did not delete it left
// behind, if the launcher can.
func (d *Daemon) reclaim(ctx context.Context, e *entry) error {
	r, ok := d.cfg.Launcher.(Reclaimer)
	if !ok {
		return nil
	}
	return r.Reclaim(ctx, e.ID)
}
