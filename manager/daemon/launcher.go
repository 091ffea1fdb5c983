package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ShimConfig is what a shim is launched with.
type ShimConfig struct {
	ID            string
	Bundle        string // the directory holding the config.json the executor wrote
	StateDir      string // the container's directory: the shim keeps shim.sock and container.log here
	ManagerSocket string // the daemon's shim socket, where the shim registers and reports
	Init          bool   // run a tiny init as the container's PID 1
}

// Launcher starts the shim of a container. Launch returns once the shim
// runs on its own (detached, so the daemon never reaches it as a child);
// the shim then registers on the shim socket by itself.
type Launcher interface {
	Launch(ctx context.Context, sc ShimConfig) error
}

// ExecLauncher runs the cmshim binary:
//
//	cmshim --id ID --bundle DIR --state-dir DIR --manager SOCKET [--runtime-root DIR] [--log-max BYTES] [--init]
//
// cmshim daemonizes itself, prints the daemon's pid and exits 0 once its
// control socket listens, or prints one line of error and exits 1.
type ExecLauncher struct {
	Binary      string
	RuntimeRoot string // cmshim --runtime-root, if set
	LogMax      int64  // cmshim --log-max, if > 0
}

// Launch runs the shim binary and waits for it to report its daemon ready.
func (l ExecLauncher) Launch(ctx context.Context, sc ShimConfig) error {
	args := []string{"--id", sc.ID, "--bundle", sc.Bundle, "--state-dir", sc.StateDir, "--manager", sc.ManagerSocket}
	if l.RuntimeRoot != "" {
		args = append(args, "--runtime-root", l.RuntimeRoot)
	}
	if l.LogMax > 0 {
		args = append(args, "--log-max", strconv.FormatInt(l.LogMax, 10))
	}
	if sc.Init {
		args = append(args, "--init")
	}
	cmd := exec.CommandContext(ctx, l.Binary, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A shim daemon that kept our pipe open would make Wait hang; once the
	// launching process has exited, stop reading after a second.
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("launch %s for container %s: %s", l.Binary, sc.ID, msg)
	}
	return nil
}
