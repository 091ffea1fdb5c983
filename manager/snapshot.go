package manager

import "time"

// Facts are what the manager knows about a container besides its state.
// A Facts value is never modified once a Snapshot points to it: a change
// copies it (f := *cur.Facts), so snapshots can share one Facts and a
// transition that changes only the state allocates nothing but its Snapshot.
type Facts struct {
	Pid          int       `json:"pid,omitempty"`     // the container's init, as its shim reported
	ShimPid      int       `json:"shimPid,omitempty"` // from the shim's registration
	Control      string    `json:"control,omitempty"` // the shim's control socket
	ExitCode     int       `json:"exitCode"`
	Signal       int       `json:"signal,omitempty"` // the signal that killed the program, if one did
	OOMKilled    bool      `json:"oomKilled,omitempty"`
	Error        string    `json:"error,omitempty"`       // why the manager gave up on it, if it did
	ReportSeq    uint64    `json:"reportSeq,omitempty"`   // the last shim report applied
	LostFrom     State     `json:"lostFrom,omitempty"`    // the state it was in when it became LOST
	StopDeadline time.Time `json:"stopDeadline,omitzero"` // when a stop turns into SIGKILL
	Changed      time.Time `json:"changed,omitzero"`      // when the state last changed
	Deleting     bool      `json:"-"`                     // rm has begun; shims get "unknown container"

	// Restart policy bookkeeping (see RestartPolicy).
	RestartCount int       `json:"restartCount,omitempty"` // restarts so far
	Backoff      int       `json:"backoff,omitempty"`      // restarts in a row that did not stay up
	Restarting   bool      `json:"restarting,omitempty"`   // relaunched: start it once READY
	UserStopped  bool      `json:"userStopped,omitempty"`  // a client's stop or kill: never restarted
	StartedAt    time.Time `json:"startedAt,omitzero"`     // when it last became RUNNING
	// RestartPolicy is the policy an update set ("": the create request's).
	RestartPolicy string `json:"restartPolicy,omitempty"`

	// Limits changed by update since create (nil: as created).
	Limits *Limits `json:"limits,omitempty"`
}

// Limits are a container's cgroup limits as last set; 0 is no limit.
type Limits struct {
	Memory int64   `json:"memory,omitempty"` // bytes
	Pids   int64   `json:"pids,omitempty"`
	CPUs   float64 `json:"cpus,omitempty"` // CPU time per second of wall time
}

// Snapshot is one immutable version of a container's status: its state
// word. Readers load it with one atomic read and never see a half-made
// change. Never modify a Snapshot or its Facts; Entry.Update makes the next.
type Snapshot struct {
	State   State  `json:"state"`
	Version uint64 `json:"version"` // +1 with every change, so changes can be recorded in order
	*Facts
}
