package manager

import (
	"errors"
	"fmt"
	"strings"
)

// ErrUnknownState is returned (wrapped) for a name that is not a state.
var ErrUnknownState = errors.New("unknown state")

// State is where a container is in its life. The zero value is not a state,
// so a forgotten field is caught instead of read as CREATING.
type State uint8

const (
	// Creating is a transient state: the manager has accepted the container
	// and its executor is writing the bundle and launching the shim. It is
	// visible because that work is queued and may take a while; clients see
	// the container exists, and that it is not runnable yet.
	Creating State = iota + 1
	// Ready: the shim has created the container; its program waits for start.
	Ready
	// Running: the program runs.
	Running
	// Stopping: a client asked to stop; the stop signal is sent and SIGKILL
	// follows after the grace period unless the program exits first.
	Stopping
	// Dead: the program exited or was killed; its exit code, signal and
	// OOM kill are recorded.
	Dead
	// Lost: the shim has been silent longer than its TTL; status unknown.
	Lost
	// Paused: a client paused it; every process of its cgroup is frozen
	// (the freezer) until resume. Last in value so older numbers stay.
	Paused
)

// lastState is the highest state value, for arrays indexed by state.
const lastState = Paused

var stateNames = [...]string{
	Creating: "CREATING",
	Ready:    "READY",
	Running:  "RUNNING",
	Stopping: "STOPPING",
	Dead:     "DEAD",
	Lost:     "LOST",
	Paused:   "PAUSED",
}

// States lists every state in life order.
func States() []State {
	return []State{Creating, Ready, Running, Paused, Stopping, Dead, Lost}
}

func (s State) valid() bool { return s >= Creating && s <= lastState }

func (s State) String() string {
	if !s.valid() {
		return fmt.Sprintf("State(%d)", uint8(s))
	}
	return stateNames[s]
}

// ParseState accepts a state name in any case: "running", "RUNNING".
func ParseState(name string) (State, error) {
	for _, s := range States() {
		if strings.EqualFold(name, stateNames[s]) {
			return s, nil
		}
	}
	var names []string
	for _, s := range States() {
		names = append(names, stateNames[s])
	}
	return 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownState, name, strings.Join(names, ", "))
}

// MarshalText writes the state's name, so JSON carries "RUNNING", not 3.
func (s State) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("invalid state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a state name.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
