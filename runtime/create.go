package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"cm/nsexec"
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

	consoleFile *os.File // "cmrun run" passes its own console socket end
}

// initConfig is everything the Go half of the init needs, sent as JSON
// after the namespaces exist.
type initConfig struct {
	ID        string  `json:"id"`
	Pid       int     `json:"pid"` // the init's pid on the host, for hook state
	Bundle    *Bundle `json:"bundle"`
	NoPivot   bool    `json:"noPivot"`
	Trace     bool    `json:"trace"`
	Console   bool    `json:"console"`   // a console socket is fd consoleFd
	Hooks     bool    `json:"hooks"`     // ask the parent to run prestart/createRuntime hooks
	ExtraFds  int     `json:"extraFds"`  // --preserve-fds
	UserNS    bool    `json:"userNS"`    // a new user namespace: devices are bind-mounted
	CgroupDir string  `json:"cgroupDir"` // the container's cgroup path, for the cgroup mount
	Seccomp   []byte  `json:"seccomp"`   // the compiled linux.seccomp filter, if any
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
	done := t.Step("cmrun", "load and validate %s", filepath.Join(o.BundleDir, ConfigFile))
	b, err := LoadBundle(o.BundleDir)
	done()
	if err != nil {
		return nil, err
	}
	filter, err := compileSeccomp(o.Root, b.Spec, t, o.debug)
	if err != nil {
		return nil, err
	}
	if b.Spec.Process.Terminal && o.ConsoleSocket == "" && o.consoleFile == nil {
		return nil, configErr("process.terminal", "a terminal needs --console-socket (or run it in the foreground with cmrun run)")
	}
	if err := os.MkdirAll(o.Root, 0o700); err != nil {
		return nil, fmt.Errorf("create state root %s: %w", o.Root, err)
	}
	c := &Container{ID: o.ID, Bundle: b.Dir, Rootfs: b.Rootfs, Created: time.Now().UTC(), root: o.Root}
	if err := os.Mkdir(c.Dir(), 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q %w", o.ID, ErrExist)
		}
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	defer func() {
		if err != nil {
			c.destroy()
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
	done = t.Step("cmrun", "create cgroup")
	cg, err := c.createCgroup(b.Spec, o.warn)
	done()
	if err != nil {
		return nil, err
	}
	c.CgroupPath = cg.Path()
	p, err := startInit(c, b, cg, filter, o)
	if err != nil {
		return nil, err
	}
	c.Pid = p.pid
	if _, c.PidStart, err = procStat(p.pid); err != nil {
		return nil, fmt.Errorf("container init %d vanished: %w", p.pid, err)
	}
	c.Config = b.Spec
	if err := c.save(); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := writeFileAtomic(o.PidFile, []byte(strconv.Itoa(c.Pid))); err != nil {
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

// startInit starts "cmrun init", walks it through the nsexec stages and
// returns once the init waits on the exec fifo.
func startInit(c *Container, b *Bundle, cg cgroup, filter []byte, o CreateOptions) (*initProcess, error) {
	t := o.Trace
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("init socketpair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "init-parent")
	child := os.NewFile(uintptr(fds[1]), "init-child")
	defer parent.Close()
	defer child.Close()

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

	done := t.Step("cmrun", "read-only bind mount of the cmrun binary")
	exe, err := readonlyExe()
	done()
	if err != nil {
		return nil, err
	}
	defer exe.Close()

	// fd layout in the init: 0-2 stdio, 3.. preserved fds, then the init
	// socket, the fifo, the console socket if any, and the binary the
	// init runs from (see readonly_exe.go).
	var extra []*os.File
	for i := 0; i < o.PreserveFDs; i++ {
		extra = append(extra, os.NewFile(uintptr(firstExtraFd+i), "preserved"))
	}
	sockFd := firstExtraFd + len(extra)
	extra = append(extra, child, fifo)
	if console != nil {
		extra = append(extra, console)
	}
	extra = append(extra, exe)
	cmd := &exec.Cmd{
		// Resolved in the child, where the binary's descriptor is the last one.
		Path:       fmt.Sprintf("/proc/self/fd/%d", firstExtraFd+len(extra)-1),
		Args:       []string{"cmrun", "init"},
		Env:        []string{nsexec.InitPipeEnv + "=" + strconv.Itoa(sockFd)},
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ExtraFiles: extra,
	}
	done = t.Step("cmrun", "start stage 0 (exec cmrun init from a read-only mount)")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	done()
	child.Close()
	p := &initProcess{sock: parent}
	stage0 := cmd.Process.Pid
	reaped := false
	fail := func(err error) (*initProcess, error) {
		if !reaped {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if p.pid > 0 {
			unix.Kill(p.pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(p.pid, &ws, 0, nil)
		}
		return nil, err
	}
	// Into the cgroup before stage 0 reads its bootstrap: everything it
	// forks, including the container's PID 1, is born inside.
	if err := cg.Add(stage0); err != nil {
		return fail(fmt.Errorf("add init to cgroup: %w", err))
	}
	if adj := b.Spec.Process.OOMScoreAdj; adj != nil {
		// Children inherit oom_score_adj at fork, so set it on stage 0.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", stage0), []byte(strconv.Itoa(*adj)), 0); err != nil {
			return fail(fmt.Errorf("set process.oomScoreAdj %d: %w", *adj, err))
		}
	}
	cfg := initConfig{Bundle: b, NoPivot: o.NoPivot, Trace: t.On(), Console: console != nil,
		Hooks: hasCreateHooks(b.Spec), ExtraFds: o.PreserveFDs, CgroupDir: cg.Path(), Seccomp: filter}
	boot := bootstrapFor(b.Spec)
	cfg.UserNS = boot.CloneFlags&unix.CLONE_NEWUSER != 0
	done = t.Step("cmrun", "nsexec: join/create namespaces, clone init (flags %#x, %d joined)", boot.CloneFlags, len(boot.NamespacePaths))
	if err := nsexec.WriteMsg(parent, nsexec.MsgBootstrap, boot.Encode()); err != nil {
		return fail(err)
	}
	for {
		typ, payload, err := nsexec.ReadMsg(parent)
		if err == io.EOF {
			return fail(errors.New("container init exited before it was ready"))
		}
		if err != nil {
			return fail(fmt.Errorf("read from container init: %w", err))
		}
		switch typ {
		case nsexec.MsgUsermapRequest:
			if err := writeIDMaps(stage0, b); err != nil {
				return fail(err)
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgUsermapAck, nil); err != nil {
				return fail(err)
			}
		case nsexec.MsgPid:
			if p.pid, err = nsexec.DecodePid(payload); err != nil {
				return fail(err)
			}
			cmd.Wait() // stage 0 has done its part and exits
			reaped = true
			done()
			cfg.ID, cfg.Pid = c.ID, p.pid
			done = t.Step("cmrun", "send config to init %d", p.pid)
			data, err := json.Marshal(cfg)
			if err != nil {
				return fail(fmt.Errorf("encode init config: %w", err))
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgConfig, data); err != nil {
				return fail(err)
			}
			done()
		case nsexec.MsgHooks:
			if err := runCreateHooks(c, b.Spec, p.pid, t); err != nil {
				return fail(err)
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgHooksDone, nil); err != nil {
				return fail(err)
			}
		case nsexec.MsgReady:
			var r readyMsg
			if err := json.Unmarshal(payload, &r); err != nil {
				return fail(fmt.Errorf("decode ready message: %w", err))
			}
			t.Add(r.Trace)
			for _, w := range r.Warnings {
				o.warn(w)
			}
			return p, nil
		case nsexec.MsgError:
			return fail(fmt.Errorf("container init: %s", payload))
		default:
			return fail(fmt.Errorf("container init sent unknown message %d", typ))
		}
	}
}

func (o CreateOptions) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

func (o CreateOptions) debug(msg string) {
	if o.Debug != nil {
		o.Debug(msg)
	}
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

// writeFileAtomic writes through a temporary file and a rename, so readers
// (podman waits for the pid file) never see a partial file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
