package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// CreateOptions are the inputs of "cmrun create".
type CreateOptions struct {
	Root          string // state root, e.g. /run/cmrun
	ID            string
	BundleDir     string
	PidFile       string // where to write the init's pid, if set
	ConsoleSocket string // AF_UNIX socket that receives the pty master
	NoPivot       bool   // chroot instead of pivot_root (for ramfs roots)
	PreserveFDs   int    // extra fds, counted from 3, passed to the container
	Trace         *Trace
	Warn          func(msg string) // receives warnings (capabilities not granted...); may be nil
	Debug         func(msg string) // receives debug messages; may be nil
	// Stdio are the container's stdin, stdout and stderr; nil entries
	// inherit cmrun's own. A shim passes pipes to its log here.
	Stdio [3]*os.File

	consoleFile *os.File // "cmrun run" passes its own console socket end
	bundle      *Bundle  // "cmrun run" has loaded it already
	// signalsCaught, from "cmrun run", closes once cmrun catches every
	// signal (to forward them); Create waits for it before it makes
	// anything, so a signal either kills cmrun before the container
	// exists or reaches the container.
	signalsCaught <-chan struct{}
}

// loadBundle loads and validates the bundle, unless the caller did.
func (o *CreateOptions) loadBundle() (*Bundle, error) {
	if o.bundle != nil {
		return o.bundle, nil
	}
	done := o.Trace.Step("cmrun", "load and validate %s", filepath.Join(o.BundleDir, ConfigFile))
	defer done()
	return LoadBundle(o.BundleDir)
}

// initConfig is everything the Go half of the init needs, sent as JSON
// after the namespaces exist.
type initConfig struct {
	ID        string    `json:"id"`
	Pid       int       `json:"pid"` // the init's pid on the host, for hook state
	Bundle    *Bundle   `json:"-"`   // the init rebuilds it from the three fields below
	BundleDir string    `json:"bundleDir"`
	Rootfs    string    `json:"rootfs"`
	Spec      *initSpec `json:"spec"`
	NoPivot   bool      `json:"noPivot"`
	Trace     bool      `json:"trace"`
	FifoFd    int       `json:"fifoFd"`    // the exec fifo (O_PATH), 0 for exec
	ConsoleFd int       `json:"consoleFd"` // the console socket, 0 without a terminal
	Exec      bool      `json:"exec"`      // join a running container instead of building one
	Hooks     bool      `json:"hooks"`     // ask the parent to run prestart/createRuntime hooks
	ExtraFds  int       `json:"extraFds"`  // --preserve-fds
	UserNS    bool      `json:"userNS"`    // a new user namespace: devices are bind-mounted
	// CgroupDirs maps each cgroup mount point to the container's cgroup
	// directory in it, for the cgroup mount.
	CgroupDirs map[string]string `json:"cgroupDirs"`
	// Seccomp is the compiled linux.seccomp filter, if any. It travels
	// in a message of its own (MsgSeccomp): as JSON it would be base64
	// text several times the size of the rest.
	Seccomp    []byte `json:"-"`
	HasSeccomp bool   `json:"hasSeccomp"`
}

// Fixed descriptor numbers in the init; the preserved fds come right after stdio.
const (
	firstExtraFd = 3
)

// readyMsg is what the init reports when it waits for start.
type readyMsg struct {
	Trace    []TraceStep `json:"trace,omitempty"`
	Warnings []string    `json:"warnings,omitempty"`
}

// Create makes a container: its state directory, cgroup, namespaces and
// root filesystem, with the init waiting on the exec fifo for "start".
// On any error everything made so far is removed again.
func Create(o CreateOptions) (_ *Container, err error) {
	t := o.Trace
	if err := CheckID(o.ID); err != nil {
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
		return nil, configErr("process.terminal", "a terminal needs --console-socket (or run it in the foreground with cmrun run)")
	}
	if o.signalsCaught != nil {
		done := t.Step("cmrun", "wait until every signal is caught (to forward it)")
		<-o.signalsCaught
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

// initProcess is the parent's handle on the container init.
type initProcess struct {
	pid  int
	sock *os.File
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
	cfg := initConfig{ID: c.ID, Bundle: b, NoPivot: o.NoPivot, Trace: o.Trace.On(), Hooks: hasCreateHooks(b.Spec),
		ExtraFds: o.PreserveFDs, Seccomp: filter, UserNS: boot.CloneFlags&unix.CLONE_NEWUSER != 0}
	return spawn(spawnRequest{
		c: c, stdio: o.Stdio, cfg: cfg, boot: boot, cg: cg, fifo: fifo, console: console,
		trace: o.Trace, warn: o.warn,
		idMaps: func(pid int) error { return writeIDMaps(pid, b) },
		hooks:  func(pid int) error { return runCreateHooks(c, b.Spec, pid, o.Trace) },
	})
}

// writeIDMaps writes the uid/gid maps of a new user namespace for stage 0.
func writeIDMaps(pid int, b *Bundle) error {
	l := b.Spec.Linux
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
