package bench

import (
	"fmt"
	"os"
	"sync/atomic"
)

// Command is one contender: a program that starts a container (or the
// baseline's bare clone), waits for it and exits with its code.
type Command struct {
	Name string // "cmrun", "runc", "crun", "baseline"
	// Config names the config.json it runs (ConfigRuncSpec, ...); empty
	// for the baseline, which reads none.
	Config string
	Dir    string // working directory, usually the bundle
	// Argv returns the full command line (Argv[0] is an absolute path) for
	// a container named id. Every call gets a fresh id, so a container
	// left behind by a failed run can never collide with the next one.
	Argv func(id string) []string
}

// Label names the contender with its config, for plots and messages.
func (c Command) Label() string { return label(c.Config, c.Name) }

func label(config, name string) string {
	if config == "" {
		return name
	}
	return name + " (" + config + ")"
}

// ids makes container names unique within this process.
var ids atomic.Int64

// NewID returns a container id no other call in this process returns.
func NewID(name string) string {
	return fmt.Sprintf("bench-%s-%d-%d", name, os.Getpid(), ids.Add(1))
}
