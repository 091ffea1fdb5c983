package runtime

import "os"

// SpawnOptions are what "create" and "exec" share: where the state lives,
// which container, how the new process's stdio, terminal and pid are
// handed over, and where messages go.
type SpawnOptions struct {
	Root          string // state root, e.g. /run/cmrun
	ID            string
	PidFile       string // where to write the new process's pid, if set
	ConsoleSocket string // AF_UNIX socket that receives the pty master
	PreserveFDs   int    // extra fds, counted from 3, passed to the process
	Trace         *Trace
	Warn          func(msg string) // receives warnings (capabilities not granted...); may be nil
	Debug         func(msg string) // receives debug messages; may be nil
	// Stdio are the process's stdin, stdout and stderr; nil entries
	// inherit cmrun's own. A shim passes pipes to its log here.
	Stdio [3]*os.File
}

func (o SpawnOptions) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

func (o SpawnOptions) debug(msg string) {
	if o.Debug != nil {
		o.Debug(msg)
	}
}
