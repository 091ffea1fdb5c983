package runtime

import (
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
	"cm/runtime/namespace"
	"cm/runtime/rootfs"
)

// standardInit builds a container and becomes its first process, as
// runc's standard init does: in the namespaces the preamble created (or
// joined by path) it sets up the root filesystem, with the hooks that run
// around it, the names, sysctls and masked paths, then the process's own
// setup; it reports ready and blocks on the exec fifo until "cmrun start",
// runs the startContainer hooks and execs the program.
func standardInit(cfg *initConfig, sock *os.File, t *Trace) error {
	if err := buildContainer(cfg, sock, t); err != nil {
		return err
	}
	proc, warnings, err := prepareProcess(cfg, sock, t)
	if err != nil {
		return err
	}
	return proc.launch(sock, t, warnings, func() error {
		// The fifo's path is gone after pivot_root; the O_PATH descriptor still names it.
		if err := waitForStart(cfg.FifoFd); err != nil {
			return err
		}
		return startContainerHooks(cfg)
	})
}

// hooksBeforePivot runs the hooks that must see both worlds: the parent
// runs prestart and createRuntime (runtime namespace), then the init runs
// createContainer (container namespaces, host paths still visible).
func hooksBeforePivot(cfg *initConfig, sock *os.File, t *Trace) error {
	if cfg.Hooks {
		if err := nsexec.WriteMsg(sock, msgHooks, nil); err != nil {
			return err
		}
		typ, _, err := nsexec.ReadMsg(sock)
		if err != nil || typ != msgHooksDone {
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
	hasMountNS := namespace.Find(s, specs.MountNamespace) != nil
	if ns := namespace.Find(s, specs.NetworkNamespace); ns != nil && ns.Path == "" {
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
	err = rootfs.MaskAndProtect(s.Linux)
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
