package api

import (
	"time"

	"cm/manager"
)

// CreateRequest describes a new container. Give exactly one of Rootfs (a
// root filesystem directory: the daemon writes a default OCI config for it)
// or Bundle (an OCI bundle directory whose config.json is the base). Args,
// Env, Cwd, Memory, Pids and Namespaces override the base.
type CreateRequest struct {
	Name       string   `json:"name,omitempty"`
	Rootfs     string   `json:"rootfs,omitempty"`
	Bundle     string   `json:"bundle,omitempty"`
	Args       []string `json:"args,omitempty"`
	Env        []string `json:"env,omitempty"` // KEY=VALUE, added to or replacing the base's
	Cwd        string   `json:"cwd,omitempty"`
	Memory     int64    `json:"memory,omitempty"`     // memory limit in bytes; 0: none
	Pids       int64    `json:"pids,omitempty"`       // pids limit; 0: none
	Namespaces []string `json:"namespaces,omitempty"` // replaces the default set: pid, network, ipc, uts, mount, cgroup, user, time
	Init       bool     `json:"init,omitempty"`       // run a tiny init as PID 1 (the shim's --init)
	// Network: "" keeps the base config's namespaces; "none" a network
	// namespace of its own with only loopback; "host" the host's; "bridge"
	// a veth on the daemon's bridge through CNI (see network.go).
	Network string        `json:"network,omitempty"`
	Ports   []PortMapping `json:"ports,omitempty"` // published ports; only with network bridge
	// Restart is the restart policy: no (default), on-failure[:N] or always.
	Restart string            `json:"restart,omitempty"`
	CPUs    float64           `json:"cpus,omitempty"`   // CPU time per second of wall time; 0: no limit
	Labels  map[string]string `json:"labels,omitempty"` // free key=value pairs, for ps --filter label=
}

// UpdateRequest changes a container's cgroup limits; only the fields
// given change. CPUs is CPU time per second of wall time (1.5: one and a
// half CPUs).
type UpdateRequest struct {
	Memory *int64   `json:"memory,omitempty"`
	Pids   *int64   `json:"pids,omitempty"`
	CPUs   *float64 `json:"cpus,omitempty"`
	// Restart replaces the restart policy (no, on-failure[:N], always).
	Restart *string `json:"restart,omitempty"`
}

// Container is what the daemon knows about one container.
type Container struct {
	ID        string        `json:"id"`
	Name      string        `json:"name,omitempty"`
	State     manager.State `json:"state"`
	Pid       int           `json:"pid,omitempty"`
	ExitCode  int           `json:"exitCode"`
	Signal    int           `json:"signal,omitempty"`
	OOMKilled bool          `json:"oomKilled"`
	Error     string        `json:"error,omitempty"`
	ShimPid   int           `json:"shimPid,omitempty"`
	// Unconfirmed: reloaded after a daemon restart and not yet heard from
	// by its shim; it becomes LOST if the shim stays silent.
	Unconfirmed bool      `json:"unconfirmed,omitempty"`
	Command     []string  `json:"command,omitempty"`
	Bundle      string    `json:"bundle,omitempty"` // the bundle directory the daemon wrote
	Created     time.Time `json:"created"`
	Changed     time.Time `json:"changed,omitzero"`
	Version     uint64    `json:"version"`
	// Network is what the container's network was given (IP, gateway,
	// published ports); absent when it was not asked for.
	Network *NetworkStatus `json:"network,omitempty"`
	// The restart policy, how often it restarted the container, and the
	// labels and limits (as created, or as last updated).
	Restart      string            `json:"restart,omitempty"`
	RestartCount int               `json:"restartCount"`
	Labels       map[string]string `json:"labels,omitempty"`
	Memory       int64             `json:"memory,omitempty"`
	Pids         int64             `json:"pids,omitempty"`
	CPUs         float64           `json:"cpus,omitempty"`
}

// StopRequest: the signal (default TERM) goes first; SIGKILL to the whole
// cgroup follows after Timeout seconds (default 10) unless it exited.
type StopRequest struct {
	Timeout *float64 `json:"timeout,omitempty"`
	Signal  string   `json:"signal,omitempty"`
}

// KillRequest sends one signal: a name ("TERM", "SIGTERM") or a number ("15").
type KillRequest struct {
	Signal string `json:"signal"`
}

// Event types.
const (
	EventCreated    = "created"
	EventTransition = "transition"
	EventDeleted    = "deleted"
	EventResync     = "resync"
)

// Event is one line of GET /v1/events.
type Event struct {
	Seq       uint64        `json:"seq"`
	Time      time.Time     `json:"time"`
	Type      string        `json:"type"`
	ID        string        `json:"id,omitempty"`
	Name      string        `json:"name,omitempty"`
	From      manager.State `json:"from,omitempty"`
	To        manager.State `json:"to,omitempty"`
	By        string        `json:"by,omitempty"` // the actor that made the transition
	ExitCode  *int          `json:"exitCode,omitempty"`
	Signal    int           `json:"signal,omitempty"`
	OOMKilled bool          `json:"oomKilled,omitempty"`
	Reason    string        `json:"reason,omitempty"`
}

// Info describes the daemon: its executor's load and its containers.
type Info struct {
	Version       string         `json:"version"`
	StateDir      string         `json:"stateDir"`
	Boot          uint64         `json:"boot"`
	Started       time.Time      `json:"started"`
	Containers    int            `json:"containers"`
	States        map[string]int `json:"states"`
	Workers       int            `json:"workers"`
	Busy          int            `json:"busy"`          // workers running a job now
	QueueDepth    int            `json:"queueDepth"`    // jobs waiting for a worker
	QueueCapacity int            `json:"queueCapacity"` // when full, requests wait
	LastEvent     uint64         `json:"lastEvent"`
}

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
}
