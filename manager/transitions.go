package manager

// This file is the single source of truth for the state machine: the API
// refuses what is not here, and `cmctl states` draws its diagrams from it.

// Transition is one edge of the state machine: From → To, allowed to the
// actors in By, with a label for the diagram.
type Transition struct {
	From, To State
	By       Actor
	Label    string
}

var transitions = []Transition{
	{Creating, Ready, Shim, "reports READY"},
	{Creating, Dead, Executor | Shim, "launch failed, or reports DEAD"},
	{Creating, Lost, Watchdog, "silent for the TTL"},

	{Ready, Running, Shim, "reports RUNNING"},
	{Ready, Dead, Shim, "reports DEAD"},
	{Ready, Lost, Watchdog, "silent for the TTL"},

	{Running, Stopping, Client, "stop"},
	{Running, Dead, Shim, "reports DEAD"},
	{Running, Lost, Watchdog, "silent for the TTL"},

	{Stopping, Dead, Shim, "reports DEAD"},
	{Stopping, Lost, Watchdog, "silent for the TTL"},

	// A LOST container comes back when its shim is heard from again: a
	// registration or report says where it is, a heartbeat says it is where
	// it was when it was lost. The labels read after the actor: "shim: ...".
	{Lost, Ready, Shim, "heard from again"},
	{Lost, Running, Shim, "heard from again"},
	{Lost, Stopping, Shim, "heard from again"},
	{Lost, Dead, Shim, "reports DEAD"},

	// Pause and resume: the client asks, the shim freezes or thaws the
	// cgroup and reports; stop thaws after signalling, so a paused
	// container can be stopped, killed and removed.
	{Running, Paused, Shim, "reports PAUSED (pause)"},
	{Paused, Running, Shim, "reports RUNNING (resume, or thawed by kill)"},
	{Paused, Stopping, Client, "stop"},
	{Paused, Dead, Shim, "reports DEAD"},
	{Paused, Lost, Watchdog, "silent for the TTL"},
	{Lost, Paused, Shim, "heard from again"},

	// A restart policy relaunches a DEAD container after its back-off: a
	// new shim creates it again (CREATING → READY) and the restarter
	// starts it (READY → RUNNING, as the shim reports).
	{Dead, Creating, Restarter, "the policy says so, after the back-off"},
}

// Op is something a client asks for that is not itself a transition, or
// that starts one the shim finishes.
type Op string

const (
	OpCreate Op = "create"
	OpStart  Op = "start"
	OpStop   Op = "stop"
	OpKill   Op = "kill"
	OpDelete Op = "rm"
	OpStats  Op = "stats"
	OpExec   Op = "exec"
	OpPause  Op = "pause"
	OpResume Op = "resume"
	OpUpdate Op = "update"
)

// Operation says in which states a client operation is accepted.
type Operation struct {
	Op     Op
	In     []State
	Effect string
}

var operations = []Operation{
	{OpCreate, nil, "a new container starts in CREATING"},
	{OpStart, []State{Ready}, "asks the shim to start; the shim reports RUNNING"},
	{OpStop, []State{Running, Paused}, "→ STOPPING, the stop signal (a PAUSED one is thawed after it), SIGKILL after the grace period"},
	{OpKill, []State{Ready, Running, Stopping, Paused}, "sends a signal through the shim; the shim reports what follows"},
	{OpExec, []State{Running}, "runs another process through the shim; the container's state does not change"},
	{OpDelete, []State{Dead, Lost}, "forgets the container (rm --force: in any state, killing it first)"},
	{OpStats, []State{Running, Stopping, Paused}, "reads what its cgroup says it uses; its program must exist"},
	{OpPause, []State{Running}, "asks the shim to freeze the cgroup; the shim reports PAUSED"},
	{OpResume, []State{Paused}, "asks the shim to thaw the cgroup; the shim reports RUNNING"},
	{OpUpdate, []State{Ready, Running, Paused}, "asks the shim to change the cgroup limits; recorded for inspect"},
}

// allowed[from][to] holds the actors allowed to make that transition; the
// array makes the check on every transition a lookup.
var allowed [lastState + 1][lastState + 1]Actor

func init() {
	for _, t := range transitions {
		allowed[t.From][t.To] |= t.By
	}
}

// Transitions returns a copy of the table.
func Transitions() []Transition { return append([]Transition(nil), transitions...) }

// Operations returns a copy of the client operations table.
func Operations() []Operation { return append([]Operation(nil), operations...) }

// Allowed reports whether actor by may move a container from one state to another.
func Allowed(from, to State, by Actor) bool {
	if !from.valid() || !to.valid() {
		return false
	}
	return allowed[from][to]&by != 0
}

// CheckTransition returns an *IllegalError unless by may move id from → to.
func CheckTransition(id string, from, to State, by Actor) error {
	if Allowed(from, to, by) {
		return nil
	}
	return &IllegalError{ID: id, From: from, To: to, By: by}
}

// CheckOp returns an *IllegalError unless a client may do op in state s.
func CheckOp(id string, op Op, s State) error {
	for _, o := range operations {
		if o.Op != op {
			continue
		}
		for _, in := range o.In {
			if in == s {
				return nil
			}
		}
		return &IllegalError{ID: id, From: s, Op: op, Needs: o.In}
	}
	return &IllegalError{ID: id, From: s, Op: op}
}

// Terminal reports whether no transition leaves s: only rm does, or a
// restart policy (the container's own choice, not the table's).
func Terminal(s State) bool {
	for to := Creating; to <= lastState; to++ {
		if allowed[s][to]&^Restarter != 0 {
			return false
		}
	}
	return true
}

// Watched reports whether the watchdog may mark s LOST: the states in
// which a live shim is expected to send heartbeats.
func Watched(s State) bool { return Allowed(s, Lost, Watchdog) }

// Reported is the state a shim's report of `reported` moves a container to.
// The shim knows nothing of STOPPING, which to it is still RUNNING, so a
// RUNNING report leaves a stopping container STOPPING; for a LOST container
// the state it had when it was lost (lostFrom) is what the report is
// compared with.
func Reported(current, lostFrom, reported State) State {
	known := current
	if current == Lost {
		known = lostFrom
	}
	if reported == Running && known == Stopping {
		return Stopping
	}
	return reported
}
