package manager

import "strings"

// Actor is who asks for a transition. The manager only does what it is
// told, so every transition in the table names the actors allowed to make it.
// Actors are bits so one table row can allow several.
type Actor uint8

const (
	// Client is a user of the client API (cmctl).
	Client Actor = 1 << iota
	// Executor is the manager's own worker pool, reporting what happened
	// to work a client queued (for example a shim that failed to launch).
	Executor
	// Shim is a container's shim, reporting on the shim socket.
	Shim
	// Watchdog marks LOST the containers whose shim went silent.
	Watchdog
	// Restarter relaunches a DEAD container its restart policy says to
	// restart, after the back-off.
	Restarter
)

var actorNames = []struct {
	a    Actor
	name string
}{{Client, "client"}, {Executor, "executor"}, {Shim, "shim"}, {Watchdog, "watchdog"}, {Restarter, "restart"}}

// Actors lists every single actor.
func Actors() []Actor { return []Actor{Client, Executor, Shim, Watchdog, Restarter} }

// String names the actors in a set: "executor|shim".
func (a Actor) String() string {
	var names []string
	for _, n := range actorNames {
		if a&n.a != 0 {
			names = append(names, n.name)
		}
	}
	if len(names) == 0 {
		return "nobody"
	}
	return strings.Join(names, "|")
}
