package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

// CreateOptions are the inputs of "cmrun create".
type CreateOptions struct {
	SpawnOptions
	BundleDir string
	NoPivot   bool // chroot instead of pivot_root (for ramfs roots)

	consoleFile *os.File // "cmrun run" passes its own console socket end
	bundle      *Bundle  // "cmrun run" has loaded it already
	// stopSignalsCaught, from "cmrun run", closes once cmrun catches the
	// signals that would end or stop it; Create waits for it before it
	// makes anything, so such a signal either ends cmrun before anything
	// exists or reaches the container.
	stopSignalsCaught <-chan struct{}
}

// loadBundle loads and validates the bundle, unless the caller did.
func (o *CreateOptions) loadBundle() (*Bundle, error) {
	if o.bundle != nil {
		return o.bundle, nil
	}
	done := o.Trace.Step("cmrun", "load and validate %s", filepath.Join(o.BundleDir, spec.ConfigFile))
	defer done()
	return LoadBundle(o.BundleDir)
}

// Create makes a container: its state directory, cgroup, namespaces and
// root filesystem, with the init waiting on the exec fifo for "start".
// On any error everything made so far is removed again.
func Create(o CreateOptions) (_ *Container, err error) {
	t := o.Trace
	if err := spec.CheckID(o.ID); err != nil {
		return nil, err
	}
	b, err := o.loadBundle()
	if err != nil {
		return nil, err
	}
	if err := checkStateRoot(o.Root); err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(o.Root, b.Spec, t, o.debug)
	if err != nil {
		return nil, err
	}
	if b.Spec.Process.Terminal && o.ConsoleSocket == "" && o.consoleFile == nil {
		return nil, spec.NewConfigError("process.terminal", "a terminal needs --console-socket (or run it in the foreground with cmrun run)")
	}
	if o.stopSignalsCaught != nil {
		done := t.Step("cmrun", "wait until the signals that end cmrun are caught (to forward them)")
		<-o.stopSignalsCaught
		done()
	}
	stateStart := time.Now()
	if err := makeStateRoot(o.Root); err != nil {
		return nil, err
	}
	c := &Container{ID: o.ID, Bundle: b.Dir, Rootfs: b.Rootfs, Created: time.Now().UTC(), Config: b.Spec, root: o.Root}
	if err := os.Mkdir(c.Dir(), 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q %w", o.ID, ErrExist)
		}
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	defer func() {
		if err != nil {
			if derr := c.destroy(); derr != nil {
				o.warn(fmt.Sprintf("clean up after the failed create: %v", derr))
			}
		}
	}()
	// Anyone may write the fifo (the init may no longer be root when it
	// opens it); only root may read it, which is what "start" does.
	fifoPath := filepath.Join(c.Dir(), fifoFile)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	if err := os.Chmod(fifoPath, 0o622); err != nil { // mkfifo applied the umask
		return nil, fmt.Errorf("create exec fifo: %w", err)
	}
	t.Record("cmrun", stateStart, "state directory and exec fifo")
	pending := c.createCgroupAsync(b.Spec)
	p, err := startInit(c, b, pending, filter, o)
	// Always wait: a start that failed early must not leave a cgroup
	// being made behind the cleanup's back.
	cg, cgErr := pending.wait()
	t.Span("cmrun", pending.start, pending.end, "create cgroup")
	for _, w := range pending.warnings {
		o.warn(w)
	}
	if cg != nil {
		c.CgroupPath = cg.Path()
	}
	if err != nil {
		return nil, err
	}
	if cgErr != nil {
		return nil, cgErr
	}
	c.Pid = p.pid
	if _, c.PidStart, err = procStat(p.pid); err != nil {
		return nil, fmt.Errorf("container init %d vanished: %w", p.pid, err)
	}
	done := t.Step("cmrun", "save state")
	err = c.save()
	done()
	if err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := WriteFileAtomic(o.PidFile, []byte(strconv.Itoa(c.Pid)), 0o644); err != nil {
			return nil, fmt.Errorf("write pid file: %w", err)
		}
	}
	return c, nil
}
