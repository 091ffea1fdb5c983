package proto

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

// Files of a container's state directory (cmshim --state-dir) that the
// manager names too: it expects the control socket there, and serves the
// container's output from the log.
const (
	ControlSocket = "shim.sock"
	LogFile       = "container.log"
	OldLogFile    = "container.log.1" // the previous log after a rotation
)

// UnknownContainer is the error text of the 404 that makes a shim abort.
const UnknownContainer = "unknown container"
