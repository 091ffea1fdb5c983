// Package proto is the shim protocol: everything cmanagerd and cmshim
// must agree on to talk to each other. It owns the JSON wire types, the
// URL paths of both sockets, the files of a container's state directory
// that both sides name, the descriptors a launcher hands cmshim, and how
// the shim's token travels (on a pipe, then as a bearer token). Both
// sides import it, and so does the test shim (package manager/shimtest).
//
// It owns no behaviour: it never opens a socket, serves a request or
// touches a container, and it imports nothing of cm, so that any side
// can use it without pulling in the runtime or the daemon.
//
// Everything is HTTP with JSON bodies over Unix sockets.
//
// # Shim → manager (the manager's shim socket)
//
//	POST /v1/shim/register  Register  → 200 RegisterReply
//	POST /v1/shim/report    Report    → 200 {}
//	POST /v1/shim/heartbeat Heartbeat → 200 HeartbeatReply (or an empty body)
//
// A shim pushes; the manager never polls. Only peers whose uid is root or
// the manager's own (SO_PEERCRED) may use the socket. Every message
// speaks for one container (its "id") and must come from that
// container's shim, else 403:
//   - it carries the container's token as "Authorization: Bearer TOKEN"
//     (SetToken). The manager hands the token to the shim it launches on
//     a pipe, cmshim --token-fd 4 (TokenPipe, ReadToken), never on the
//     command line or in the environment, which other processes can read;
//   - a registration's Pid is the caller's own pid (SO_PEERCRED), and
//     once a shim has registered only that pid is heard for the container;
//   - Control is the socket the manager expects for the container,
//     <state-dir>/shim.sock (ControlSocket), else 400.
//
// A 404 {"error":"unknown container"} (UnknownContainer) to any of them
// tells the shim to ABORT: kill its whole workload, clean up and exit. A
// shim takes only a 404 with a JSON error as that answer: a plain "404
// page not found" from a server that lacks the endpoint must not kill a
// container.
//
// A shim registers once its control socket listens, and again whenever it
// had to open a new connection to the manager, since that may be a
// restarted manager; the manager should keep connections alive. It
// reports every state change (READY after create, RUNNING after start,
// PAUSED and RUNNING around a freeze, DEAD with the exit status, only
// once the container's output is all in container.log) and sends a
// Heartbeat every RegisterReply.HeartbeatInterval, changed by any
// HeartbeatReply that names another (the manager lengthens it when it
// watches many containers); a shim silent for the TTL of the interval it
// was last told makes its container LOST. Reports are
// idempotent: after a lost connection the shim sends them again, and Seq
// (1, 2, 3... per shim) lets the manager drop those it already applied. A
// report refused with a 4xx is dropped, not retried; no answer or a 5xx
// is retried with backoff. A shim stays up after its container is DEAD,
// until the manager deletes it; after delete or abort it says nothing
// more.
//
// # Manager → shim (the shim's control socket, <state-dir>/shim.sock, 0600)
//
//	POST /v1/start                      → 200 ControlReply (the init's pid; the manager reads only the status)
//	POST /v1/signal   SignalRequest     → 200 (any signal, to the container's init)
//	POST /v1/kill-all                   → 200 (SIGKILL to every process of its cgroup)
//	POST /v1/delete   DeleteRequest     → 200 (delete the container), then the shim exits
//	GET  /v1/state                      → 200 Report (what the shim knows now; the manager does not use it)
//	POST /v1/exec     execstream.Request → 101, then exec frames (see below)
//	POST /v1/pause                      → 200 (freeze the cgroup; the shim reports PAUSED)
//	POST /v1/resume                     → 200 (thaw it; the shim reports RUNNING)
//	POST /v1/update   linux.resources   → 200 (the runtime's update of the cgroup limits)
//
// A signal to a PAUSED container thaws it after sending, so the signal is
// delivered; the shim then reports RUNNING.
//
// Exec runs another process in the RUNNING container (409 otherwise),
// with "Connection: Upgrade" and "Upgrade: cm-exec": after the 101 the
// connection carries the frames of package cm/manager/execstream (stdin,
// stdout, stderr, resize, exit) until the process has exited and its
// output is sent. The manager relays a client's connection to it as is.
// A process that cannot be started is an Error frame and Exit 127 (not
// found) or 126 (cannot be run); a connection that breaks before Exit
// gets the process killed.
//
// Errors are ErrorReply, {"error": "..."}: 409 when the container is not
// in a state that allows the request, 400 for a bad request, 500
// otherwise.
//
// # Launch
//
// The manager runs the shim binary as
//
//	cmshim --ready-fd 3 --token-fd 4 [--lock-fd 5] --id ID --bundle DIR --state-dir DIR --manager SOCKET ...
//
// with the write end of a pipe as ReadyFd, on which the shim writes one
// line, "ok" once its container is created and its control socket
// listens, or why it failed; the read end of the token pipe as TokenFd;
// and, if it has one, the container's shim lock as LockFd, which the shim
// holds open as long as it lives.
package proto
