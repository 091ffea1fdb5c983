// Package api is the wire format of cmanagerd's client API: its JSON
// types, and a Client for it, for the shim socket and for a shim's
// control socket (whose types are package cm/shim/proto's). It owns no
// behaviour; it never touches the daemon's state, the disk or the
// runtime. cmctl, the daemon and tests import it.
//
// # Client API (the client socket, default /run/cm/cm.sock)
//
// Every body is JSON; every error answer is {"error": "..."}. Bodies are
// limited to 1 MiB (413) and unknown fields are refused (400, naming the
// field). A container is addressed by its id or its unique name.
//
//	POST   /v1/containers                CreateRequest → 201 Container (state CREATING)
//	       network none|host|bridge and ports (bridge only) give it a network; a host
//	       port in use or published by another container is refused (400)
//	GET    /v1/containers[?state=S,S]    → 200 []Container, oldest first
//	GET    /v1/containers/{id}           → 200 Container
//	DELETE /v1/containers/{id}[?force=1] → 200 Container (its last view)
//	POST   /v1/containers/{id}/start     → 200 Container, once the shim has started it
//	POST   /v1/containers/{id}/stop      StopRequest → 202 Container (STOPPING)
//	POST   /v1/containers/{id}/kill      KillRequest → 200 Container
//	GET    /v1/containers/{id}/wait[?state=S,S] → 200 Container once it is in one
//	       of the states (default DEAD,LOST) or in a state nothing leaves
//	GET    /v1/containers/{id}/logs[?follow=1]  → the container.log bytes; with
//	       follow the stream goes on until the container is DEAD or LOST
//	POST   /v1/containers/{id}/exec      ExecRequest, with "Connection: Upgrade" and
//	       "Upgrade: cm-exec" → 101, then exec frames until the process's exit code
//	       (409 unless RUNNING; see Exec below)
//	GET    /v1/events[?since=SEQ]        → NDJSON stream of Event
//	GET    /v1/info                      → 200 Info
//	GET    /v1/containers/{id}/stats     → 200 Stats: what its cgroup says it uses
//	       now (409 unless RUNNING, STOPPING or PAUSED); counters, so a rate such as
//	       CPU % is the difference of two reads over the difference of their times
//	GET    /metrics                      → the daemon's metrics in the Prometheus
//	       text format (also on cmanagerd --metrics-listen ADDR, over TCP)
//	POST   /v1/containers/{id}/pause     → 200 Container (PAUSED), once the shim froze it
//	POST   /v1/containers/{id}/resume    → 200 Container (RUNNING), once the shim thawed it
//	POST   /v1/containers/{id}/update    UpdateRequest → 200 Container with the new limits
//	       or restart policy (READY, RUNNING or PAUSED)
//	GET    /v1/containers?filter=KEY=VALUE[&filter=...] → 200 []Container every filter
//	       matches: state=S, label=K or label=K=V, name=N, id=PREFIX (400 for another key)
//
// CreateRequest.Restart (no, on-failure[:N], always) restarts a container
// that died, after a back-off (100 ms doubling to a minute; back to 100 ms
// once it ran 10 s): DEAD → CREATING by the actor "restart", then READY
// and RUNNING from the new shim. Container.RestartCount counts them. A
// client's stop, or kill with KILL, TERM, INT or QUIT, is never undone.
//
// Status codes: 400 malformed request (the message names the field), 404
// unknown container, 405 wrong method, 408 a body not sent within the
// read timeout, 409 illegal transition (naming the current and the
// attempted state) or duplicate name, 413 body over 1 MiB, 503 while the
// daemon shuts down, or at once when every connection the socket allows
// is busy with a request, 502 when a shim did not do what it was asked,
// 500 when the change could not be written to the state directory
// ("cannot record the change, so it was not made": full, or out of
// descriptors). Every change is all or nothing: once it is answered 2xx it
// is on disk, visible and published; with an error none of that happened.
// A wait (and start, which waits for the shim) ends with that 500 when a
// change of its container cannot be recorded, rather than hang.
//
// Both sockets cut off slow and idle peers: a request's headers, and then
// its body, must each arrive within the read timeout (cmanagerd
// --read-timeout, default 10s); a kept-alive connection idle for
// --idle-timeout (default 2m) is closed. Answers are never timed out, so
// streams (events, logs with follow, wait) last as long as the client
// wants. Each socket keeps at most --max-conns (shim socket:
// --max-shim-conns) connections: past that, a new connection closes the
// one idle the longest, so a new client always gets in.
//
// Try it: curl --unix-socket /run/cm/cm.sock http://cm/v1/containers
//
// # Metrics
//
// GET /metrics has: cm_containers{state} (a gauge per state),
// cm_transitions_total{from,to}, cm_containers_lost_total,
// cm_shim_heartbeats_total (heartbeats received),
// cm_shim_heartbeats_missed_total (heartbeat intervals a shim let pass,
// counted when it is heard again), cm_shim_heartbeat_interval_seconds
// (the interval shims are told now), cm_create_seconds (a histogram of
// create → READY), and for each RUNNING, STOPPING or PAUSED container
// cm_container_cpu_seconds_total{id,name} and
// cm_container_memory_bytes{id,name}, read from its cgroup at each scrape
// (a removed container's series disappear), plus the Go runtime's and the
// process's standard go_* and process_* metrics.
// The TCP address has no authentication and shows every container's id
// and name: bind it to the loopback or a network you trust.
//
// # Events
//
// Each Event has a sequence number that only grows, across restarts too
// (the daemon's boot count is its high bits: seq = boot<<40 + n), and a
// time. ?since=SEQ replays the events after SEQ from a ring buffer. When the
// events after SEQ are no longer in the ring (the subscriber read too slowly,
// since= is too old, or it is from an earlier boot), the stream says so with
// an Event of type "resync" whose Seq is the last event skipped: re-read the
// containers, then carry on with the events that follow. A gap is never silent.
// The stream ends when the daemon stops or dies: reconnect with since= the
// last Seq read. After a restart that gets a resync, and the list is the
// truth: transitions made while the daemon was down (an exit a shim reports
// when it registers again) may have no event (cmctl events does all this).
//
// # Exec
//
// POST /v1/containers/{id}/exec runs another process in a RUNNING
// container (the operation "exec" of manager/transitions.go: 409 in any
// other state, before anything runs). The body is an ExecRequest (args;
// env KEY=VALUE added to the container's; user "UID[:GID]"; cwd; tty;
// stdin; rows and cols of the terminal). A request without the upgrade
// headers is a 400. After "101 Switching Protocols" the connection
// carries frames, each one byte of kind, a 4-byte big-endian length and
// the payload:
//
//	0 stdin      client → daemon   bytes for the process (only with "stdin": true)
//	1 stdout     daemon → client   the process's stdout (with a tty: all its output)
//	2 stderr     daemon → client   the process's stderr
//	3 resize     client → daemon   rows, cols: two big-endian uint16
//	4 stdin-eof  client → daemon   the client's stdin ended
//	5 exit       daemon → client   the exit code, a big-endian int32; the last frame
//	6 error      daemon → client   why the process did not start (exit 127, 126 or 255 follows)
//
// The daemon relays the frames to and from the container's shim as they
// are (package cm/manager/execstream has the codec); a client that closes
// the connection before exit gets the process killed. Client.Exec opens
// a session.
//
// # Shim protocol (the shim socket, default /run/cm/shim.sock)
//
// Shims push registrations, state reports and heartbeats to the shim
// socket, and the manager asks a shim to act on the shim's own control
// socket. Package cm/shim/proto owns that protocol: its types, paths and
// doc. This package has the manager's client of a control socket
// (Control), and Client.Register, Report and Heartbeat (with
// NewShimClient) for tests that play a shim.
package api
