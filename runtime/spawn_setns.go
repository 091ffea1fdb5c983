package runtime

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setnsParent is the parent of a setns init (init_setns.go), the process
// of "exec": it passes nothing more than the common fds, and the joined
// container has its user namespace and has run its create hooks already.
type setnsParent struct {
	c *Container
}

func (setnsParent) files(*initConfig, int) []*os.File { return nil }

// writeIDMaps refuses: exec joins the container's user namespace and
// never makes one, so stage 0 has no reason to ask.
func (setnsParent) writeIDMaps(int) error {
	return errors.New("container init asked for id maps, but exec creates no user namespace")
}

func (setnsParent) runHooks(int) error {
	return errors.New("container init asked for hooks nobody runs")
}

// agentStatus: a seccomp agent hears of a process of exec with the
// container's own status and its init's pid.
func (sp setnsParent) agentStatus(int) (specs.ContainerState, int) {
	return sp.c.Status(), sp.c.Pid
}
