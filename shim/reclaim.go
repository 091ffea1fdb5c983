package shim

import (
	"errors"

	"cm/runtime"
)

// Reclaim removes what is left of a container whose shim is gone: it
// SIGKILLs every process in the container's cgroup and removes the cgroup
// and the runtime's state. It is "cmshim reclaim", which the manager runs
// because it must not link the runtime itself. A container the runtime
// does not know (its shim deleted it, or never created it) is not an error.
func Reclaim(runtimeRoot, id string) error {
	if err := runtime.Delete(runtimeRoot, id, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return err
	}
	return nil
}
