package runtime

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// standardParent is the parent of a standard init (init_standard.go):
// it passes the exec fifo, writes the id maps of a new user namespace
// and runs the hooks that belong to the runtime namespace.
type standardParent struct {
	c     *Container
	b     *Bundle
	fifo  *os.File // O_PATH, see startInit
	trace *Trace
}

// startInit starts the container's init and returns once it waits on
// the exec fifo for "start".
func startInit(c *Container, b *Bundle, cg *pendingCgroup, filter []byte, o CreateOptions) (*initProcess, error) {
	// The init reopens the fifo through /proc/self/fd after pivot_root,
	// when its path is no longer visible; O_PATH does not open the fifo.
	fifo, err := os.OpenFile(filepath.Join(c.Dir(), fifoFile), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open exec fifo: %w", err)
	}
	defer fifo.Close()
	console := o.consoleFile
	if b.Spec.Process.Terminal && console == nil {
		if console, err = dialConsole(o.ConsoleSocket); err != nil {
			return nil, err
		}
		defer console.Close()
	}
	boot := bootstrapFor(b.Spec)
	cfg := initConfig{Type: initStandard, ID: c.ID, Bundle: b, NoPivot: o.NoPivot, Trace: o.Trace.On(), Hooks: hasCreateHooks(b.Spec),
		ExtraFds: o.PreserveFDs, Seccomp: filter, UserNS: boot.CloneFlags&unix.CLONE_NEWUSER != 0}
	return spawn(spawnRequest{
		c: c, stdio: o.Stdio, cfg: cfg, boot: boot, cg: cg, console: console, trace: o.Trace, warn: o.warn,
		parent: &standardParent{c: c, b: b, fifo: fifo, trace: o.Trace},
	})
}

// writeIDMaps writes the uid/gid maps that linux.uidMappings and
// linux.gidMappings ask for.
func (sp *standardParent) writeIDMaps(pid int) error {
	l := sp.b.Spec.Linux
	for _, m := range []struct{ file, text string }{
		{"uid_map", idMapText(l.UIDMappings)},
		{"gid_map", idMapText(l.GIDMappings)},
	} {
		path := fmt.Sprintf("/proc/%d/%s", pid, m.file)
		if err := os.WriteFile(path, []byte(m.text), 0); err != nil {
			return fmt.Errorf("write %s (linux.%sMappings): %w", path, m.file[:3], err)
		}
	}
	return nil
}

func (sp *standardParent) files(cfg *initConfig, first int) []*os.File {
	cfg.FifoFd = first
	return []*os.File{sp.fifo}
}

// runHooks runs prestart and createRuntime, which the init asks for
// before pivot_root.
func (sp *standardParent) runHooks(pid int) error {
	return runCreateHooks(sp.c, sp.b.Spec, pid, sp.trace)
}

// agentStatus: a seccomp agent hears of the init while it is being made,
// as "creating", as runc reports it.
func (sp *standardParent) agentStatus(pid int) (specs.ContainerState, int) {
	return specs.StateCreating, pid
}
