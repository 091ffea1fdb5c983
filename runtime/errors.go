package runtime

import (
	"errors"

	"cm/runtime/spec"
)

// Sentinel errors callers tell apart. Their texts are the ones other
// container tools match on (runc's wording), so keep them stable.
var (
	ErrNotExist   = errors.New("does not exist")
	ErrExist      = errors.New("already exists")
	ErrNotRunning = errors.New("container not running")
	ErrNotStopped = errors.New("container is not stopped")
	ErrNotCreated = errors.New("container is not in created state")
	ErrNoSuchProc = errors.New("no such process")
	ErrInvalid    = spec.ErrInvalid
	ErrUnsafeDir  = errors.New("state directory writable by another user")
	ErrFrozen     = errors.New("container's cgroup unexpectedly frozen")
)
