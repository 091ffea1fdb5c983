package shim

import "errors"

// Sentinel errors callers tell apart with errors.Is.
var (
	// ErrUnknownContainer is the manager's 404: it does not know this
	// container, and the shim must abort.
	ErrUnknownContainer = errors.New("manager: unknown container")

	// ErrWrongState is the shim's 409: the container is not in a state
	// that allows the request (starting it twice, signalling it when DEAD...).
	ErrWrongState = errors.New("container is not in a state that allows this")
)
