package manager

import (
	"errors"
	"fmt"
	"strings"
)

// ErrIllegal matches every *IllegalError with errors.Is: the API answers 409.
var ErrIllegal = errors.New("illegal transition")

// ErrDuplicate is returned when a container id or name is already taken.
var ErrDuplicate = errors.New("already exists")

// IllegalError is a transition or operation the table does not allow. It
// names the current state and the attempted one, as the API must.
type IllegalError struct {
	ID    string
	From  State   // the container's current state
	To    State   // the attempted state, for a transition
	By    Actor   // who attempted it, for a transition
	Op    Op      // the attempted client operation, if it was one
	Needs []State // the states Op is allowed in
}

func (e *IllegalError) Error() string {
	if e.Op != "" {
		var needs []string
		for _, s := range e.Needs {
			needs = append(needs, s.String())
		}
		msg := fmt.Sprintf("cannot %s container %s: it is %s", e.Op, e.ID, e.From)
		if len(needs) > 0 {
			msg += fmt.Sprintf(" (%s needs %s)", e.Op, strings.Join(needs, " or "))
		}
		return msg
	}
	return fmt.Sprintf("illegal transition for container %s: %s → %s is not allowed to the %s", e.ID, e.From, e.To, e.By)
}

// Is makes errors.Is(err, ErrIllegal) true.
func (e *IllegalError) Is(target error) bool { return target == ErrIllegal }
