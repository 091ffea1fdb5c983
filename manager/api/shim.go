package api

import "cm/manager"

// ExitStatus is how a container's program ended.
type ExitStatus struct {
	ExitCode  int  `json:"exitCode"`
	Signal    int  `json:"signal"`
	OOMKilled bool `json:"oomKilled"`
}

// RegisterRequest is a shim announcing itself: its pid, its control socket
// and where its container is (READY, RUNNING, or DEAD with Exit).
type RegisterRequest struct {
	ID           string        `json:"id"`
	Pid          int           `json:"pid"`
	Control      string        `json:"control"`
	ContainerPid int           `json:"containerPid,omitempty"` // the container's init
	State        manager.State `json:"state"`
	Exit         *ExitStatus   `json:"exit,omitempty"`
}

// RegisterResponse tells the shim how often to send heartbeats.
type RegisterResponse struct {
	HeartbeatInterval int64 `json:"heartbeatInterval"` // milliseconds
}

// Report is a shim telling a state change: READY, RUNNING (Pid: the
// container's init), or DEAD with the exit status.
type Report struct {
	ID        string        `json:"id"`
	State     manager.State `json:"state"`
	Pid       int           `json:"pid,omitempty"`
	ExitCode  int           `json:"exitCode"`
	Signal    int           `json:"signal,omitempty"`
	OOMKilled bool          `json:"oomKilled,omitempty"`
	Seq       uint64        `json:"seq"`
}

// Heartbeat says the shim is alive.
type Heartbeat struct {
	ID string `json:"id"`
}

// SignalRequest asks a shim (on its control socket) to send a signal.
type SignalRequest struct {
	Signal int `json:"signal"`
}

// DeleteRequest asks a shim (on its control socket) to delete its
// container and exit; without Force a container that is not DEAD stays.
type DeleteRequest struct {
	Force    bool `json:"force"`
	KeepLogs bool `json:"keepLogs,omitempty"` // leave container.log for the next shim (a restart)
}

// UnknownContainer is the error text of the 404 that makes a shim abort.
const UnknownContainer = "unknown container"
