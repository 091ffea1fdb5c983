package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/capabilities"
	"cm/nsexec"
	"cm/runtime/namespace"
	"cm/runtime/spec"
)

// ExecOptions are the inputs of "cmrun exec".
type ExecOptions struct {
	SpawnOptions
	Process      *specs.Process // the process to run, complete
	Detach       bool
	IgnorePaused bool   // exec in a paused container too (the process starts frozen)
	SubCgroup    string // an existing sub-cgroup of the container's to run in, "" for its own
	// For callers in process (cmshim): Console, for a terminal process,
	// is our end of a console socketpair instead of ConsoleSocket;
	// OnSpawn gets the pid as soon as the process exists, before Exec
	// returns.
	Console *os.File
	OnSpawn func(pid int)
}

// Exec runs another process in a created or running container: the same
// nsexec preamble joins every namespace of the container's init, the
// process joins its cgroup, and the Go half skips the root filesystem
// (the container's mount namespace already has it). Unless detached, it
// waits and returns the process's exit code.
func Exec(o ExecOptions) (int, error) {
	c, err := Load(o.Root, o.ID)
	if err != nil {
		return 0, err
	}
	switch st := c.Status(); {
	case st == specs.StateCreated, st == specs.StateRunning:
	case st == StatusPaused && o.IgnorePaused:
	case st == StatusPaused:
		return 0, fmt.Errorf("cannot exec in container %s that is paused: %w (use --ignore-paused)", o.ID, ErrNotRunning)
	default:
		return 0, fmt.Errorf("cannot exec in container %s that is %s: %w", o.ID, st, ErrNotRunning)
	}
	if err := checkExecProcess(o.Process); err != nil {
		return 0, err
	}
	spec := *c.Config
	spec.Process = o.Process
	// Joining what the init is in, not what the config asked for: a
	// namespace given by path may since have been replaced.
	spec.Linux = &specs.Linux{}
	*spec.Linux = *c.Config.Linux
	boot, err := joinBootstrap(c)
	if err != nil {
		return 0, err
	}
	cg, err := c.execCgroup(o.SubCgroup)
	if err != nil {
		return 0, err
	}
	filter, err := compileSeccomp(o.Root, &spec, o.Trace, o.debug)
	if err != nil {
		return 0, err
	}
	var fwd *forwarder
	if !o.Detach {
		fwd = catchStopSignals()
		defer fwd.stop()
	}
	var tty *ttyProxy
	console, err := execConsole(o, &tty)
	if err != nil {
		return 0, err
	}
	if tty != nil {
		defer tty.Close()
	}
	if fwd != nil {
		<-fwd.stopCaught // a signal that would end cmrun now reaches the process instead
	}
	b := &Bundle{Dir: c.Bundle, Rootfs: c.Rootfs, Spec: &spec}
	cfg := initConfig{Type: initSetns, ID: c.ID, Bundle: b, Trace: o.Trace.On(), ExtraFds: o.PreserveFDs, Seccomp: filter}
	p, err := spawn(spawnRequest{c: c, stdio: o.Stdio, cfg: cfg, boot: boot, cg: existingCgroup(cg), console: console,
		trace: o.Trace, warn: o.warn, parent: setnsParent{c: c}})
	if console != nil && tty == nil {
		console.Close()
	}
	if err != nil {
		return 0, err
	}
	p.sock.Close()
	if o.OnSpawn != nil {
		o.OnSpawn(p.pid)
	}
	if o.PidFile != "" {
		if err := WriteFileAtomic(o.PidFile, []byte(strconv.Itoa(p.pid)), 0o644); err != nil {
			return 0, fmt.Errorf("write pid file: %w", err)
		}
	}
	if tty != nil {
		if err := tty.attach(); err != nil {
			unix.Kill(p.pid, unix.SIGKILL)
			return 0, err
		}
	}
	if o.Detach {
		return 0, nil
	}
	code, err := fwd.wait(p.pid, tty, o.debug)
	if tty != nil {
		tty.drain()
	}
	return code, err
}

// execConsole returns the console socket for a terminal process: the
// caller's --console-socket, or, in the foreground, one end of our own.
func execConsole(o ExecOptions, tty **ttyProxy) (*os.File, error) {
	if !o.Process.Terminal {
		return nil, nil
	}
	if o.Console != nil {
		return o.Console, nil
	}
	if o.ConsoleSocket != "" {
		return dialConsole(o.ConsoleSocket)
	}
	if o.Detach {
		return nil, fmt.Errorf("exec: a terminal needs --console-socket when detached")
	}
	p, err := newTTYProxy()
	if err != nil {
		return nil, err
	}
	*tty = p
	return p.remote, nil
}

func checkExecProcess(p *specs.Process) error {
	if p == nil || len(p.Args) == 0 || p.Args[0] == "" {
		return fmt.Errorf("exec: process.args: must not be empty")
	}
	if p.Cwd == "" || !filepath.IsAbs(p.Cwd) {
		return fmt.Errorf("exec: process.cwd: %q must be an absolute path", p.Cwd)
	}
	if err := spec.CheckRlimits(p.Rlimits); err != nil {
		return err
	}
	if field, problem, ok := spec.CheckExecveSize("process", p.Args, p.Env, spec.StackRlimit(p.Rlimits)); !ok {
		return fmt.Errorf("exec: %s: %s", field, problem)
	}
	if _, err := capabilities.Parse(p.Capabilities); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// joinBootstrap lists the init's namespaces to join, skipping those the
// caller already shares (setns into one's own user namespace fails).
func joinBootstrap(c *Container) (*nsexec.Bootstrap, error) {
	b := &nsexec.Bootstrap{}
	var types []specs.LinuxNamespaceType
	for _, ns := range c.Config.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	sort.SliceStable(types, func(i, j int) bool { return namespace.JoinRank(types[i]) < namespace.JoinRank(types[j]) })
	for _, t := range types {
		path := fmt.Sprintf("/proc/%d/ns/%s", c.Pid, namespace.ProcName(t))
		theirs, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("container %s: %w", c.ID, err)
		}
		if ours, err := os.Stat("/proc/self/ns/" + namespace.ProcName(t)); err == nil && os.SameFile(ours, theirs) {
			continue
		}
		b.Join(t == specs.CgroupNamespace, path)
	}
	return b, nil
}
