package daemon

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: no container has that id or name (404).
	ErrNotFound = errors.New("no such container")
	// ErrUnknownContainer is what shims hear for a container the daemon
	// does not know or is deleting (404): they abort.
	ErrUnknownContainer = errors.New("unknown container")
	// ErrShuttingDown: the daemon no longer takes work (503).
	ErrShuttingDown = errors.New("cmanagerd is shutting down")
)

// FieldError is a malformed request (400), naming the field at fault.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

func badField(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// ShimError is a shim that failed to do what it was asked (502).
type ShimError struct {
	ID  string
	Op  string
	Err error
}

func (e *ShimError) Error() string {
	return fmt.Sprintf("shim of container %s: %s: %v", e.ID, e.Op, e.Err)
}

func (e *ShimError) Unwrap() error { return e.Err }

// ErrBodyTimeout: a request body that did not arrive within the read timeout (408).
var ErrBodyTimeout = errors.New("request body not received in time")

// ErrNoShim: the container has no registered shim to pass an order to (409).
var ErrNoShim = errors.New("no shim has registered for it yet")

// ErrNotRecorded: a change could not be written to the state directory
// (full, out of descriptors), so it was not made (500).
var ErrNotRecorded = errors.New("cannot record the change, so it was not made")
