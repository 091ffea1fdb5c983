package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/runtime/rootfs"
)

// lock takes an exclusive lock on the container's directory, so two cmrun
// commands cannot start or delete the same container at once. The lock
// goes away with the returned file (or the process).
func (c *Container) lock() (*os.File, error) {
	f, err := os.Open(c.Dir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q %w", c.ID, ErrNotExist)
		}
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock container %s: %w", c.ID, err)
	}
	return f, nil
}

// Start lets a created container's init exec the user's program.
func Start(root, id string) (*Container, error) {
	c, err := Load(root, id)
	if err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	return c, nil
}

// start is Start on a container already loaded (or just created).
func (c *Container) start() error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Close()
	if st := c.Status(); st != specs.StateCreated {
		return fmt.Errorf("cannot start container %s: %w (it is %s)", c.ID, ErrNotCreated, st)
	}
	if err := c.releaseInit(); err != nil {
		return err
	}
	os.Remove(filepath.Join(c.Dir(), fifoFile))
	if c.Config.Hooks != nil {
		// The state of a started container, even if a quick program has
		// already exited by now: the hooks are told what start did.
		st := c.OCIState()
		st.Status, st.Pid = specs.StateRunning, c.Pid
		// The spec: a failing poststart hook is a warning, the container keeps running.
		runHooksWarning("poststart", c.Config.Hooks.Poststart, st)
	}
	return nil
}

// releaseInit opens the exec fifo, reads the init's byte, and waits until
// the init has exec'd the user's program: its write end is close-on-exec,
// so the fifo ends then. Opening it non-blocking for reading never blocks,
// and a pidfd tells us if the init died instead of waiting forever.
func (c *Container) releaseInit() error {
	// The pidfd first: once the fifo is open the init may run, exit and
	// be reaped by its parent (a shim) before we look, and its pid is gone.
	pidfd, err := unix.PidfdOpen(c.Pid, 0)
	if err != nil {
		return fmt.Errorf("container init %d: %w", c.Pid, ErrNoSuchProc)
	}
	defer unix.Close(pidfd)
	fifo, err := unix.Open(filepath.Join(c.Dir(), fifoFile), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fifo)
	started := false
	fds := []unix.PollFd{{Fd: int32(fifo), Events: unix.POLLIN}, {Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("wait for container init: %w", err)
		}
		if fds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0 {
			var b [1]byte
			n, err := unix.Read(fifo, b[:])
			switch {
			case err != nil && !errors.Is(err, unix.EAGAIN):
				return fmt.Errorf("read exec fifo: %w", err)
			case n == 1:
				started = true
				continue
			case n == 0 && started: // the init's end closed: exec'd (or died trying, which wait4 tells)
				return nil
			}
		}
		if fds[1].Revents != 0 {
			if started {
				return nil // ran and exited already
			}
			return fmt.Errorf("container init exited before start: %w", ErrNotRunning)
		}
	}
}

// Kill sends a signal to the container's init, or with all to every
// process in its cgroup.
func Kill(root, id string, sig unix.Signal, all bool) error {
	c, err := Load(root, id)
	if err != nil {
		return err
	}
	switch c.Status() {
	case specs.StateStopped, specs.StateCreating:
		return fmt.Errorf("cannot signal container %s: %w", id, ErrNotRunning)
	}
	// Signal 0 only asks whether the container is alive (runc allows it
	// with --all too): its init stands for all of its processes.
	if sig == 0 {
		return c.signalInit(0)
	}
	if all {
		cg, err := c.cgroup()
		if err != nil {
			return err
		}
		return cg.KillAll(sig)
	}
	return c.signalInit(sig)
}

// signalInit uses a pidfd so a recycled pid can never receive the signal.
// The pid must also still be the recorded init (its start time) and live
// in the container's cgroup: a pid from a stale or forged state file that
// names a process outside the container is never signalled.
func (c *Container) signalInit(sig unix.Signal) error {
	pidfd, err := unix.PidfdOpen(c.Pid, 0)
	if err != nil {
		return fmt.Errorf("signal container %s: %w", c.ID, ErrNoSuchProc)
	}
	defer unix.Close(pidfd)
	if !c.initAlive() {
		return fmt.Errorf("signal container %s: %w", c.ID, ErrNotRunning)
	}
	if !c.initInCgroup() {
		return fmt.Errorf("signal container %s: container init %d is not in the container's cgroup %q: %w", c.ID, c.Pid, c.CgroupPath, ErrNoSuchProc)
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("signal container %s: %w", c.ID, ErrNoSuchProc)
		}
		return fmt.Errorf("signal container %s: %w", c.ID, err)
	}
	return nil
}

// Delete removes a stopped container: its processes, cgroup and state.
// With force a container in any state is killed first.
func Delete(root, id string, force bool) error {
	c, err := Load(root, id)
	if err != nil {
		return err
	}
	return c.delete(force)
}

// delete is Delete on a container already loaded (or just created).
func (c *Container) delete(force bool) error {
	l, err := c.lock()
	if err != nil {
		return err
	}
	defer l.Close()
	st := c.Status()
	if st != specs.StateStopped && !force {
		return fmt.Errorf("cannot delete container %s that is %s: %w (use --force)", c.ID, st, ErrNotStopped)
	}
	if err := c.destroy(); err != nil {
		return err
	}
	if c.Config != nil && c.Config.Hooks != nil {
		// The spec: a failing poststop hook is a warning, delete still succeeds.
		stopped := c.OCIState()
		stopped.Status = specs.StateStopped
		runHooksWarning("poststop", c.Config.Hooks.Poststop, stopped)
	}
	return nil
}

// destroy kills whatever is left of the container and removes its cgroup
// and state directory. It is also the undo of a failed create.
func (c *Container) destroy() error {
	var cg cgroup
	if c.CgroupPath != "" {
		if g, err := c.cgroup(); err == nil {
			cg = g
			// Every process, not only the init: without a PID namespace
			// its death does not take the others along. KillAll also
			// thaws a paused container, whose processes cannot die frozen.
			if err := cg.KillAll(unix.SIGKILL); err != nil {
				return fmt.Errorf("kill processes of %s: %w", c.ID, err)
			}
		}
	}
	if c.initAlive() && c.signalInit(unix.SIGKILL) == nil {
		c.waitInitGone(5 * time.Second)
	}
	if cg != nil {
		if err := cg.Destroy(); err != nil {
			return fmt.Errorf("remove cgroup of %s: %w", c.ID, err)
		}
	}
	if rootfs.SharesHostMounts(c.Config) && c.Rootfs != "" {
		if err := rootfs.UnmountUnder(c.Rootfs); err != nil {
			return fmt.Errorf("remove mounts of %s: %w", c.ID, err)
		}
	}
	if err := os.RemoveAll(c.Dir()); err != nil {
		return fmt.Errorf("remove state of %s: %w", c.ID, err)
	}
	return nil
}

// waitInitGone waits until the init has exited (it may not be our child).
func (c *Container) waitInitGone(timeout time.Duration) {
	pidfd, err := unix.PidfdOpen(c.Pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(pidfd)
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	unix.Poll(fds, int(timeout.Milliseconds()))
}
