package runtime

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
	"cm/runtime/seccomp"
)

// Init is the Go half of a container init ("cmrun init"). The nsexec
// preamble has already put this process in the container's namespaces,
// new or joined; Init reads its config and runs the init it names: the
// standard init, which builds the container (init_standard.go), or the
// setns init, which runs another process in it (init_setns.go). Both end
// in the same tail here: the process's limits, user, capabilities and
// seccomp filter, then execve. Init returns only on error, after
// reporting it to the parent.
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
	err = runInit(sock, forked, entered)
	nsexec.WriteMsg(sock, nsexec.MsgError, []byte(err.Error()))
	os.Exit(1)
}

// runInit reads the config and runs the init it asks for; forked is when
// stage 0 cloned this process and entered when the Go runtime handed over
// to Init, so the trace shows the runtime's start and what waiting for the
// config took.
func runInit(sock *os.File, forked, entered time.Time) error {
	cfg, err := readConfig(sock)
	if err != nil {
		return err
	}
	t := NewTrace(cfg.Trace)
	t.Span("init", forked, entered, "Go runtime start (from the clone: runtime and package init)")
	t.Record("init", entered, "Go runtime up: read and decode the init config")
	switch cfg.Type {
	case initStandard:
		return standardInit(cfg, sock, t)
	case initSetns:
		return setnsInit(cfg, sock, t)
	}
	return fmt.Errorf("protocol error: unknown init type %q", cfg.Type)
}

// userProcess is the user's program once the init has taken on its
// identity, waiting to replace the init.
type userProcess struct {
	exe      string
	p        *specs.Process
	filter   *seccomp.Filter // loaded last, just before execve; nil if none or loaded already
	extraFds int             // --preserve-fds
}

// prepareProcess is what every init does once its container is there:
// rlimits and terminal, then the user, capabilities and no_new_privs of
// process (finalizeProcess), and a seccomp listener handed to the parent.
// It returns the program to exec and the warnings to report.
func prepareProcess(cfg *initConfig, sock *os.File, t *Trace) (*userProcess, []string, error) {
	p := cfg.Bundle.Spec.Process
	// The program inherits this thread's timer slack across execve: give
	// it the host's back now, before a seccomp filter could refuse prctl.
	if err := nsexec.RestoreHostTimerSlack(); err != nil {
		return nil, nil, fmt.Errorf("restore timer slack: %w", err)
	}
	done := t.Step("init", "rlimits, io priority")
	err := setProcessLimits(p)
	done()
	if err != nil {
		return nil, nil, err
	}
	if cfg.ConsoleFd > 0 {
		done := t.Step("init", "allocate terminal")
		err := setupConsole(cfg.ConsoleFd, p.ConsoleSize, p.User.UID)
		done()
		if err != nil {
			return nil, nil, err
		}
	}
	exe, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return nil, nil, err
	}
	// Enter the working directory while still root, as runc does, so a
	// directory only root may enter works; one only the process's user
	// may enter is entered after the switch instead.
	cwdErr := unix.Chdir(p.Cwd)
	if cwdErr != nil && !errors.Is(cwdErr, unix.EACCES) && !errors.Is(cwdErr, unix.EPERM) {
		return nil, nil, fmt.Errorf("process.cwd %s: %w", p.Cwd, cwdErr)
	}
	done = t.Step("init", "set user %d:%d, capabilities, no_new_privs", p.User.UID, p.User.GID)
	filter, listener, warnings, err := finalizeProcess(p, cfg.Seccomp)
	done()
	if err != nil {
		return nil, nil, err
	}
	// A filter with SCMP_ACT_NOTIFY rules is loaded now, as runc does:
	// its listener reaches the seccomp agent through the parent, which
	// is there only until the init reports ready.
	if filter != nil && filter.HasListener() {
		done := t.Step("init", "load seccomp filter with a listener")
		listener, err = filter.LoadListener(true)
		done()
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp: %w", err)
		}
		filter = nil
	}
	if listener >= 0 {
		if err := handOverListener(sock, listener); err != nil {
			return nil, nil, err
		}
	}
	if cwdErr != nil {
		if err := unix.Chdir(p.Cwd); err != nil {
			return nil, nil, fmt.Errorf("process.cwd %s: %w", p.Cwd, err)
		}
	}
	return &userProcess{exe: exe, p: p, filter: filter, extraFds: cfg.ExtraFds}, warnings, nil
}

// launch reports ready and closes the socket, runs wait if there is one
// (the standard init's wait for "start"), then execs the program. It
// returns only if the ready message could not be sent: after that nobody
// listens on the socket, and stderr is all there is.
func (u *userProcess) launch(sock *os.File, t *Trace, warnings []string, wait func() error) error {
	if err := sendReady(sock, t, warnings); err != nil {
		return err
	}
	sock.Close()
	if wait != nil {
		if err := wait(); err != nil {
			fmt.Fprintf(os.Stderr, "cmrun init: %v\n", err)
			os.Exit(1)
		}
	}
	if err := closeExtraFds(firstExtraFd + u.extraFds); err != nil {
		fmt.Fprintf(os.Stderr, "cmrun init: %v\n", err)
		os.Exit(1)
	}
	// Last: from here on the filter judges every system call, execve included.
	if u.filter != nil {
		if err := u.filter.Load(true); err != nil {
			fmt.Fprintf(os.Stderr, "cmrun init: linux.seccomp: %v\n", err)
			os.Exit(1)
		}
	}
	err := unix.Exec(u.exe, u.p.Args, u.p.Env)
	fmt.Fprintf(os.Stderr, "cmrun init: exec %s: %v\n", u.exe, err)
	os.Exit(127)
	return nil
}

func setProcessLimits(p *specs.Process) error {
	if err := setRlimits(p.Rlimits); err != nil {
		return err
	}
	return setIOPriority(p.IOPriority)
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
