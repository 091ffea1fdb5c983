package cgroupfs

import "errors"

// Sentinel errors for the cases a caller must tell apart; match them with
// errors.Is. The returned errors wrap them with the details.
var (
	// ErrNoCgroups means no cgroup filesystem is mounted at all.
	ErrNoCgroups = errors.New("no cgroup hierarchy mounted")
	// ErrInvalidPath means a cgroups path or container ID is unusable.
	ErrInvalidPath = errors.New("invalid cgroup path")
	// ErrInvalidResources means linux.resources holds a nonsense value.
	ErrInvalidResources = errors.New("invalid resources")
	// ErrUnavailable means a controller or feature the resources ask for
	// is not available on this host.
	ErrUnavailable = errors.New("not available")
	// ErrTimeout means the kernel did not reach the wanted state (frozen,
	// empty) in time.
	ErrTimeout = errors.New("timed out")
)
