package seccomp

import (
	"errors"
	"fmt"
)

// Sentinel errors for callers that must tell a broken profile from one
// that asks for something this runtime does not do.
var (
	ErrInvalid      = errors.New("invalid seccomp profile")
	ErrNotSupported = errors.New("not supported")
)

// fieldError is a problem with one profile field. Its text is
// "field: problem", like the rest of cmrun's config errors; errors.Is
// matches it against ErrInvalid or ErrNotSupported.
type fieldError struct {
	field, problem string
	kind           error
}

func (e *fieldError) Error() string { return e.field + ": " + e.problem }
func (e *fieldError) Unwrap() error { return e.kind }

func invalid(field, format string, args ...any) error {
	return &fieldError{field: field, problem: fmt.Sprintf(format, args...), kind: ErrInvalid}
}

func notSupported(field, format string, args ...any) error {
	return &fieldError{field: field, problem: fmt.Sprintf(format, args...), kind: ErrNotSupported}
}
