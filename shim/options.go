package shim

import (
	"errors"
	"fmt"
	"path/filepath"

	"cm/runtime/spec"
)

// Options are the command line of cmshim.
type Options struct {
	ID          string // the container id, also its id in the runtime
	Bundle      string // OCI bundle directory (config.json + rootfs)
	StateDir    string // the shim's files: control socket, status, logs
	Manager     string // the manager's shim socket
	RuntimeRoot string // the runtime's state root, e.g. /run/cmrun
	LogMax      int64  // rotate container.log past this many bytes (0: never)
	Init        bool   // run cminit as the container's PID 1
	Token       string // sent with every message to the manager (from --token-fd; see proto.ReadToken)
}

// Files of the shim's state directory that only the shim names; the
// control socket and the container's logs are proto.ControlSocket,
// proto.LogFile and proto.OldLogFile. Only these five are removed at the
// end: the directory may hold files of the manager's (the bundle, for one).
const (
	StatusFile  = "status.json"
	ShimLogFile = "shim.log" // the shim's own messages
)

// DefaultLogMax is the default size at which container.log rotates.
const DefaultLogMax = 10 << 20

// Check reports the first missing or invalid option and makes the paths
// absolute: the daemon must not depend on the directory it started in.
func (o *Options) Check() error {
	if err := spec.CheckID(o.ID); err != nil {
		return fmt.Errorf("--id: %w", err)
	}
	for _, p := range []struct {
		name string
		val  *string
	}{{"--bundle", &o.Bundle}, {"--state-dir", &o.StateDir}, {"--manager", &o.Manager}, {"--runtime-root", &o.RuntimeRoot}} {
		if *p.val == "" {
			return fmt.Errorf("%s is required", p.name)
		}
		abs, err := filepath.Abs(*p.val)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		*p.val = abs
	}
	if o.LogMax < 0 {
		return errors.New("--log-max must not be negative")
	}
	return nil
}

func (o *Options) path(name string) string { return filepath.Join(o.StateDir, name) }
