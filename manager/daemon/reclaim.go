package daemon

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
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
// cgroup and the runtime's state, by running "cmshim reclaim": the daemon
// does not link the runtime (nor nsexec and libseccomp with it). A
// container the runtime does not know (the shim deleted it, or never
// created it) is not an error.
func (l ExecLauncher) Reclaim(ctx context.Context, id string) error {
	args := []string{"reclaim", "--id", id}
	if l.RuntimeRoot != "" {
		args = append(args, "--runtime-root", l.RuntimeRoot) // else cmshim's default, as for Launch
	}
	// Not CommandContext: killed half-way, the delete would leave a
	// half-removed container behind.
	cmd := exec.Command(l.Binary, args...)
	cmd.Dir = "/"
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if msg := strings.TrimSpace(stderr.String()); errors.As(err, &exit) && msg != "" {
			return fmt.Errorf("reclaim container %s: %s", id, msg)
		}
		return fmt.Errorf("reclaim container %s: %s reclaim: %w", id, l.Binary, err)
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
