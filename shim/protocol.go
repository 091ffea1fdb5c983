package shim

import (
	"encoding/json"
	"fmt"
	"time"
)

// This file is the wire format between a shim and the manager, and between
// the manager and a shim's control socket. Everything is HTTP with JSON
// bodies over Unix sockets; the manager may import these types or mirror
// them.
//
// Shim → manager (the manager's shim socket):
//
//	POST /v1/shim/register  Register  → 200 RegisterReply
//	POST /v1/shim/report    Report    → 200
//	POST /v1/shim/heartbeat Heartbeat → 200
//
// Each carries the shim's token from the manager (cmshim --token-fd, see
// ReadToken) as "Authorization: Bearer TOKEN"; the manager also checks the
// caller's pid (SO_PEERCRED) against Register.Pid, and Register.Control
// against the path it expects, <state-dir>/shim.sock. Without them it
// answers 403, which the shim, like any other refusal, does not retry for
// a report.
//
// Any of the three answered 404 ({"error":"unknown container"}) means the
// manager does not know the container: the shim kills its workload, cleans
// up and exits (ABORT).
//
// Manager → shim (the shim's control socket, <state-dir>/shim.sock, 0600):
//
//	POST /v1/start                       → 200 ControlReply (the init's pid)
//	POST /v1/signal  SignalRequest       → 200 (signal the container's init)
//	POST /v1/kill-all                    → 200 (SIGKILL every process of its cgroup)
//	POST /v1/delete  DeleteRequest       → 200, then the shim exits
//	GET  /v1/state                       → 200 Report (what the shim knows now)
//	POST /v1/exec    execstream.Request  → 101, then exec frames (see below)
//
// Exec runs another process in the RUNNING container (409 otherwise)
// with "Connection: Upgrade" and "Upgrade: cm-exec": after the 101 the
// connection carries the frames of package cm/manager/execstream (stdin,
// stdout, stderr, resize, exit) until the process has exited and its
// output is sent. The manager relays a client's connection to it as is.
// A process that cannot be started is an Error frame and Exit 127 (not
// found) or 126 (cannot be run); a connection that breaks before Exit
// gets the process killed.
//	POST /v1/pause                       → 200 (freeze the cgroup; reports PAUSED)
//	POST /v1/resume                      → 200 (thaw the cgroup; reports RUNNING)
//	POST /v1/update  linux.resources     → 200 (the runtime's update)
//
// Errors are {"error": "..."}: 409 when the container is not in a state
// that allows the request, 400 for a bad request, 500 otherwise.
//
// A shim stays up after its container is DEAD, until the manager deletes
// it; after delete or abort it reports nothing more. A report the manager
// refuses with another 4xx (400, 409...) is dropped, not retried; no
// answer or a 5xx is retried with backoff. The manager should keep
// connections alive: the shim registers again whenever it had to open a
// new connection, since that may be a restarted manager.

// Manager endpoints, relative to the manager's shim socket.
const (
	PathRegister  = "/v1/shim/register"
	PathReport    = "/v1/shim/report"
	PathHeartbeat = "/v1/shim/heartbeat"
)

// Control endpoints, relative to the shim's control socket.
const (
	PathStart   = "/v1/start"
	PathSignal  = "/v1/signal"
	PathKillAll = "/v1/kill-all"
	PathDelete  = "/v1/delete"
	PathState   = "/v1/state"
	PathExec    = "/v1/exec"
	PathPause   = "/v1/pause"
	PathResume  = "/v1/resume"
	PathUpdate  = "/v1/update"
)

// State is the container's life as the shim sees it. It only moves
// forward: READY, then RUNNING, then DEAD (READY may go straight to DEAD
// when the init dies before start), with RUNNING ⇄ PAUSED on the way.
type State string

const (
	StateReady   State = "READY"   // created, its init waits for start
	StateRunning State = "RUNNING" // the user's program was started
	StateDead    State = "DEAD"    // the init has exited; see ExitStatus
	// StatePaused: RUNNING, with every process frozen by the cgroup
	// freezer; resume (or a signal, which thaws it) makes it RUNNING again.
	StatePaused State = "PAUSED"
)

// ExitStatus is how the container's init ended. A process killed by
// signal N has Signal N and ExitCode 128+N, the shell's convention.
type ExitStatus struct {
	ExitCode  int  `json:"exitCode"`
	Signal    int  `json:"signal"`
	OOMKilled bool `json:"oomKilled"` // the kernel's OOM killer killed a process of the container
}

// Register introduces a shim to the manager. It is sent when the shim
// starts and again whenever its connection to the manager was lost, so a
// restarted manager learns about every live shim.
type Register struct {
	ID      string `json:"id"`
	Pid     int    `json:"pid"`     // the shim's own pid
	Control string `json:"control"` // path of the shim's control socket
	// ContainerPid is the container's init, so the state registration
	// brings (READY, say) comes with it.
	ContainerPid int         `json:"containerPid,omitempty"`
	State        State       `json:"state"`
	Exit         *ExitStatus `json:"exit,omitempty"` // set when State is DEAD
}

// RegisterReply tells the shim how often to send heartbeats.
type RegisterReply struct {
	HeartbeatInterval Interval `json:"heartbeatInterval"`
}

// Report is one state change. Reports are idempotent: after a lost
// connection the shim sends them again, and Seq (1, 2, 3... per shim)
// lets the manager drop the ones it already has.
type Report struct {
	ID    string `json:"id"`
	State State  `json:"state"`
	Pid   int    `json:"pid"` // the container init's host pid
	ExitStatus
	Seq uint64 `json:"seq"`
}

// Heartbeat says "this shim is alive".
type Heartbeat struct {
	ID string `json:"id"`
}

// ErrorReply is the body of every answer that is not 200.
type ErrorReply struct {
	Error string `json:"error"`
}

// SignalRequest asks the shim to send Signal (a number, e.g. 15) to the
// container's init.
type SignalRequest struct {
	Signal int `json:"signal"`
}

// DeleteRequest asks the shim to remove its container and exit. A
// container that is not DEAD is only deleted with Force (it is killed).
type DeleteRequest struct {
	Force bool `json:"force"`
	// KeepLogs leaves container.log (and container.log.1) in the state
	// directory: the manager relaunches the container, whose new shim
	// appends to them, so logs span restarts.
	KeepLogs bool `json:"keepLogs,omitempty"`
}

// ControlReply is the answer to a successful start.
type ControlReply struct {
	Pid int `json:"pid"`
}

// Interval is a duration on the wire: a number of milliseconds, as the
// protocol says. A Go duration string such as "2s" is accepted too, so a
// manager that prefers that form still works.
type Interval time.Duration

// MarshalJSON writes milliseconds.
func (d Interval) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Milliseconds())
}

// UnmarshalJSON reads milliseconds or a duration string.
func (d *Interval) UnmarshalJSON(data []byte) error {
	var ms float64
	if err := json.Unmarshal(data, &ms); err == nil {
		*d = Interval(time.Duration(ms * float64(time.Millisecond)))
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("interval %s: want milliseconds or a duration string", data)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("interval: %w", err)
	}
	*d = Interval(v)
	return nil
}
