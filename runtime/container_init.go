package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
)

// Init is the Go half of the container init ("cmrun init"). The nsexec
// preamble has already put this process in the container's namespaces;
// Init builds the root filesystem, reports ready, waits for "start" on
// the exec fifo and execs the user's program. It returns only on error,
// after reporting it to the parent.
func Init() {
	entered := time.Now()
	forked, forkedErr := ProcessStart(entered)
	// Credentials, capabilities and seccomp filters are per thread in the
	// kernel: set them and execve on one locked thread.
	goruntime.LockOSThread()
	// Started as /proc/self/fd/N, ps would call the init "N".
	SetProcessName("cmrun-init")
	fd, err := strconv.Atoi(os.Getenv(nsexec.InitPipeEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cmrun init: must be started by cmrun create")
		os.Exit(1)
	}
	os.Unsetenv(nsexec.InitPipeEnv)
	sock := os.NewFile(uintptr(fd), "init-socket")
	if forkedErr != nil {
		forked = entered
	}
	err = initContainer(sock, forked, entered)
	nsexec.WriteMsg(sock, nsexec.MsgError, []byte(err.Error()))
	os.Exit(1)
}

// initContainer runs the init's steps; forked is when stage 0 cloned
// this process and entered when the Go runtime handed over to Init, so
// the trace shows the runtime's start and what waiting for the config took.
func initContainer(sock *os.File, forked, entered time.Time) error {
	typ, payload, err := nsexec.ReadMsg(sock)
	if err != nil {
		return fmt.Errorf("read init config: %w", err)
	}
	if typ != nsexec.MsgConfig {
		return fmt.Errorf("protocol error: expected config, got message %d", typ)
	}
	var cfg initConfig
	if err := json.Unmarshal(payload, &cfg); err != nil {
		return fmt.Errorf("decode init config: %w", err)
	}
	cfg.Bundle = &Bundle{Dir: cfg.BundleDir, Rootfs: cfg.Rootfs, Spec: cfg.Spec.spec()}
	if cfg.HasSeccomp {
		if typ, cfg.Seccomp, err = nsexec.ReadMsg(sock); err != nil {
			return fmt.Errorf("read seccomp filter: %w", err)
		}
		if typ != nsexec.MsgSeccomp {
			return fmt.Errorf("protocol error: expected the seccomp filter, got message %d", typ)
		}
	}
	s := cfg.Bundle.Spec
	t := NewTrace(cfg.Trace)
	t.Span("init", forked, entered, "Go runtime start (from the clone: runtime and package init)")
	t.Record("init", entered, "Go runtime up: read and decode the init config")
	if !cfg.Exec {
		if err := buildContainer(&cfg, sock, t); err != nil {
			return err
		}
	}
	done := t.Step("init", "rlimits, io priority")
	err = setProcessLimits(s.Process)
	done()
	if err != nil {
		return err
	}
	if cfg.ConsoleFd > 0 {
		done := t.Step("init", "allocate terminal")
		err := setupConsole(cfg.ConsoleFd, s.Process.ConsoleSize, s.Process.User.UID)
		done()
		if err != nil {
			return err
		}
	}
	p := s.Process
	exe, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return err
	}
	// Enter the working directory while still root, as runc does, so a
	// directory only root may enter works; one only the process's user
	// may enter is entered after the switch instead.
	cwdErr := unix.Chdir(p.Cwd)
	if cwdErr != nil && !errors.Is(cwdErr, unix.EACCES) && !errors.Is(cwdErr, unix.EPERM) {
		return fmt.Errorf("process.cwd %s: %w", p.Cwd, cwdErr)
	}
	done = t.Step("init", "set user %d:%d, capabilities, no_new_privs", p.User.UID, p.User.GID)
	filter, listener, warnings, err := finalizeProcess(p, cfg.Seccomp)
	done()
	if err != nil {
		return err
	}
	// A filter with SCMP_ACT_NOTIFY rules is loaded now, as runc does:
	// its listener reaches the seccomp agent through the parent, which
	// is there only until the init reports ready.
	if filter != nil && filter.HasListener() {
		done := t.Step("init", "load seccomp filter with a listener")
		listener, err = filter.LoadListener(true)
		done()
		if err != nil {
			return fmt.Errorf("linux.seccomp: %w", err)
		}
		filter = nil
	}
	if listener >= 0 {
		if err := handOverListener(sock, listener); err != nil {
			return err
		}
	}
	if cwdErr != nil {
		if err := unix.Chdir(p.Cwd); err != nil {
			return fmt.Errorf("process.cwd %s: %w", p.Cwd, err)
		}
	}
	ready, _ := json.Marshal(readyMsg{Trace: t.Steps, Warnings: warnings})
	if err := nsexec.WriteMsg(sock, nsexec.MsgReady, ready); err != nil {
		return err
	}
	sock.Close()

	if !cfg.Exec {
		// Block until "cmrun start" opens the fifo. The fifo's path is gone
		// after pivot_root; the O_PATH descriptor still names it.
		if err := waitForStart(cfg.FifoFd); err != nil {
			// Nobody listens on the socket any more: stderr is all we have.
			fmt.Fprintf(os.Stderr, "cmrun init: %v\n", err)
			os.Exit(1)
		}
		if err := startContainerHooks(&cfg); err != nil {
			fmt.Fprintf(os.Stderr, "cmrun init: %v\n", err)
			os.Exit(1)
		}
	}
	if err := closeExtraFds(firstExtraFd + cfg.ExtraFds); err != nil {
		fmt.Fprintf(os.Stderr, "cmrun init: %v\n", err)
		os.Exit(1)
	}
	// Last: from here on the filter judges every system call, execve included.
	if filter != nil {
		if err := filter.Load(true); err != nil {
			fmt.Fprintf(os.Stderr, "cmrun init: linux.seccomp: %v\n", err)
			os.Exit(1)
		}
	}
	err = unix.Exec(exe, p.Args, p.Env)
	fmt.Fprintf(os.Stderr, "cmrun init: exec %s: %v\n", exe, err)
	os.Exit(127)
	return nil
}

// hooksBeforePivot runs the hooks that must see both worlds: the parent
// runs prestart and createRuntime (runtime namespace), then the init runs
// createContainer (container namespaces, host paths still visible).
func hooksBeforePivot(cfg *initConfig, sock *os.File, t *Trace) error {
	if cfg.Hooks {
		if err := nsexec.WriteMsg(sock, nsexec.MsgHooks, nil); err != nil {
			return err
		}
		typ, _, err := nsexec.ReadMsg(sock)
		if err != nil || typ != nsexec.MsgHooksDone {
			return fmt.Errorf("waiting for the parent's hooks: message %d, %v", typ, err)
		}
	}
	s := cfg.Bundle.Spec
	if s.Hooks == nil || len(s.Hooks.CreateContainer) == 0 {
		return nil
	}
	return runHooks("createContainer", s.Hooks.CreateContainer, cfg.hookState(specs.StateCreating), t)
}

func startContainerHooks(cfg *initConfig) error {
	s := cfg.Bundle.Spec
	if s.Hooks == nil || len(s.Hooks.StartContainer) == 0 {
		return nil
	}
	return runHooks("startContainer", s.Hooks.StartContainer, cfg.hookState(specs.StateCreated), nil)
}

func (cfg *initConfig) hookState(status specs.ContainerState) specs.State {
	return specs.State{Version: specs.Version, ID: cfg.ID, Status: status, Pid: cfg.Pid,
		Bundle: cfg.Bundle.Dir, Annotations: cfg.Bundle.Spec.Annotations}
}

func setNames(s *specs.Spec) error {
	if s.Hostname != "" {
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("hostname %q: %w", s.Hostname, err)
		}
	}
	if s.Domainname != "" {
		if err := unix.Setdomainname([]byte(s.Domainname)); err != nil {
			return fmt.Errorf("domainname %q: %w", s.Domainname, err)
		}
	}
	return nil
}

// buildContainer does what only the first process of a container does:
// the root filesystem (with the hooks that run around it), the names,
// the sysctls and the masked paths.
func buildContainer(cfg *initConfig, sock *os.File, t *Trace) error {
	s := cfg.Bundle.Spec
	// Every container gets its root filesystem, as runc does and the OCI
	// validation suite checks: in a new mount namespace, in one joined by
	// path, or, without any, in the host's.
	hasMountNS := findNamespace(s, specs.MountNamespace) != nil
	if ns := findNamespace(s, specs.NetworkNamespace); ns != nil && ns.Path == "" {
		done := t.Step("init", "bring up lo")
		err := loopbackUp()
		done()
		if err != nil {
			return err
		}
	}
	if err := setupRootfs(cfg, t, hasMountNS, func() error { return hooksBeforePivot(cfg, sock, t) }); err != nil {
		return err
	}
	if err := setNames(s); err != nil {
		return err
	}
	done := t.Step("init", "sysctl, personality")
	err := setSysctls(s.Linux.Sysctl)
	if err == nil {
		err = setPersonality(s.Linux.Personality)
	}
	done()
	if err != nil {
		return err
	}
	// After the sysctls: /proc/sys is usually one of the read-only paths.
	done = t.Step("init", "masked and read-only paths")
	err = maskAndProtect(s.Linux)
	done()
	return err
}

func setSysctls(sysctls map[string]string) error {
	for key, value := range sysctls {
		path := "/proc/sys/" + sysctlPath(key)
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("linux.sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

func setProcessLimits(p *specs.Process) error {
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	return setIOPriority(p.IOPriority)
}

// sysctlPath turns "net.ipv4.ip_forward" into "net/ipv4/ip_forward".
func sysctlPath(key string) string {
	b := []byte(key)
	for i := range b {
		if b[i] == '.' {
			b[i] = '/'
		}
	}
	return string(b)
}

// waitForStart opens the exec fifo for writing, which blocks until a
// reader ("cmrun start") opens it, then writes one byte to say "started".
// The descriptor stays open, close-on-exec: start sees the fifo's end once
// the user's program has replaced the init, so poststart hooks run after
// it was executed, as the spec asks. A raw descriptor, since an os.File
// could be closed early by its finalizer.
func waitForStart(fifoFd int) error {
	fifo, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fifoFd), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	if _, err := unix.Write(fifo, []byte{'0'}); err != nil {
		return fmt.Errorf("write exec fifo: %w", err)
	}
	unix.Close(fifoFd)
	return nil
}

// closeExtraFds marks every descriptor from first up close-on-exec, so the
// program inherits only stdio and the fds it was promised (--preserve-fds):
// the init socket, the console socket and the cmrun binary stay behind.
func closeExtraFds(first int) error {
	// close_range(2) (Linux 5.11) needs no /proc; older kernels list /proc/self/fd.
	if err := unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err == nil {
		return nil
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("close the runtime's descriptors: %w", err)
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}
