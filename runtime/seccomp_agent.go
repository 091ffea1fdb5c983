package runtime

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
)

// Seccomp user notification: a profile with SCMP_ACT_NOTIFY rules is
// loaded with a listener, a descriptor from which a seccomp agent reads
// the notified system calls and answers them (seccomp_unotify(2)). As in
// runc, the init tells its parent the listener's number, the parent
// copies it out of the init with pidfd_getfd(2) and sends it to the
// agent listening at linux.seccomp.listenerPath, with the JSON of the
// "container process state" of the runtime-spec (config-linux.md).
//
// The parent does the sending because listenerPath is a host path the
// init, after pivot_root, can no longer reach.

// handOverListener is the init's half: it reports the listener and
// waits until the parent has its copy before closing its own. Only
// write(2) and read(2) run between loading the filter and that point,
// and a profile may not notify write (see seccomp.Validate); a notified
// read waits for the agent, which by then is being given the listener.
func handOverListener(sock *os.File, listener int) error {
	payload := binary.NativeEndian.AppendUint32(nil, uint32(listener))
	if err := nsexec.WriteMsg(sock, msgSeccompFd, payload); err != nil {
		return fmt.Errorf("linux.seccomp: report the listener: %w", err)
	}
	typ, _, err := nsexec.ReadMsg(sock)
	if err != nil || typ != msgSeccompFdDone {
		return fmt.Errorf("linux.seccomp: waiting for the parent to take the listener: message %d, %v", typ, err)
	}
	unix.Close(listener)
	return nil
}

// sendListener is the parent's half, for the process pid (the init, or
// the process of "exec"): copy the listener, let the process go on, and
// send the listener with the state to the agent.
func (r spawnRequest) sendListener(sock *os.File, pid int, payload []byte) error {
	s := r.cfg.Bundle.Spec.Linux.Seccomp
	if len(payload) != 4 {
		return fmt.Errorf("container init sent a seccomp listener message of %d bytes", len(payload))
	}
	if s == nil || s.ListenerPath == "" {
		// Validate refuses this; an init saying otherwise is broken.
		return fmt.Errorf("container init made a seccomp listener, but linux.seccomp.listenerPath is not set")
	}
	listener, err := copyFd(pid, int(binary.NativeEndian.Uint32(payload)))
	if err != nil {
		return fmt.Errorf("linux.seccomp: take the listener from process %d: %w", pid, err)
	}
	defer unix.Close(listener)
	if err := nsexec.WriteMsg(sock, msgSeccompFdDone, nil); err != nil {
		return err
	}
	state := specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: s.ListenerMetadata,
		State:    r.agentState(pid),
	}
	return sendToAgent(s.ListenerPath, &state, listener)
}

// agentState is the container's state as the agent sees it; the parent
// of each init says which status and pid (initParent.agentStatus).
func (r spawnRequest) agentState(pid int) specs.State {
	st := specs.State{Version: specs.Version, ID: r.c.ID, Bundle: r.c.Bundle, Annotations: r.cfg.Bundle.Spec.Annotations}
	st.Status, st.Pid = r.parent.agentStatus(pid)
	return st
}

// copyFd duplicates descriptor fd of process pid into this process.
func copyFd(pid, fd int) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open: %w", err)
	}
	defer unix.Close(pidfd)
	copied, err := unix.PidfdGetfd(pidfd, fd, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_getfd %d: %w", fd, err)
	}
	return copied, nil
}

// sendToAgent sends one message to the agent's socket at path: the JSON
// state, with the listener attached (SCM_RIGHTS).
func sendToAgent(path string, state *specs.ContainerProcessState, listener int) error {
	data, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode the seccomp agent's state: %w", err)
	}
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath: socket: %w", err)
	}
	defer unix.Close(sock)
	if err := unix.Connect(sock, &unix.SockaddrUnix{Name: path}); err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %s: connect to the seccomp agent: %w", path, err)
	}
	n, err := unix.SendmsgN(sock, data, unix.UnixRights(listener), nil, 0)
	if err == nil && n != len(data) {
		err = fmt.Errorf("sent %d of %d bytes", n, len(data))
	}
	if err != nil {
		return fmt.Errorf("linux.seccomp.listenerPath %s: send the listener to the seccomp agent: %w", path, err)
	}
	return nil
}
