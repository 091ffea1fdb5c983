package proto

import (
	"encoding/json"
	"fmt"
	"time"
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
	// Seq is the Seq of the report that State comes from: the manager
	// then knows it has that report, and the copy the shim sends after
	// registering writes nothing.
	Seq uint64 `json:"seq,omitempty"`
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
	// Interval is the one the shim beats at now. A shim that sends it
	// follows HeartbeatReply; an older one sends none, and keeps the
	// interval of its registration whatever the answers say.
	Interval Interval `json:"interval,omitempty"`
}

// HeartbeatReply may answer a heartbeat: the interval the shim should
// beat at from now on, which the manager stretches as it watches more
// containers. An empty body or a zero interval keeps the current one.
type HeartbeatReply struct {
	HeartbeatInterval Interval `json:"heartbeatInterval,omitempty"`
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

// ControlReply is the answer to a successful start: the container init's
// host pid.
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
