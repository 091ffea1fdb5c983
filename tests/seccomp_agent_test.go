package tests

import (
	"encoding/json"
	"errors"
	"net"
	"path/filepath"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// seccompAgent is a tiny seccomp agent, the test's stand-in for what
// runc's tests/cmd/seccompagent does: it listens on a unix socket, takes
// each runtime's message (the container process state as JSON, the
// listener attached with SCM_RIGHTS) and answers the notified calls:
// mkdir and mkdirat succeed without making anything, rmdir fails with
// EXDEV, anything else with ENOSYS.
type seccompAgent struct {
	t      *testing.T
	path   string
	ln     *net.UnixListener
	states chan agentMessage
	wg     sync.WaitGroup
	stop   chan struct{}
}

// agentMessage is what one runtime sent.
type agentMessage struct {
	State specs.ContainerProcessState
	Fds   int    // descriptors attached
	Err   string // the message could not be read
}

func startSeccompAgent(t *testing.T, dir string) *seccompAgent {
	t.Helper()
	a := &seccompAgent{t: t, path: filepath.Join(dir, "agent.sock"), states: make(chan agentMessage, 16), stop: make(chan struct{})}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: a.path, Net: "unix"})
	require.NoError(t, err)
	a.ln = ln
	a.wg.Add(1)
	go a.accept()
	t.Cleanup(func() {
		close(a.stop)
		ln.Close()
		a.wg.Wait()
	})
	return a
}

func (a *seccompAgent) accept() {
	defer a.wg.Done()
	for {
		conn, err := a.ln.AcceptUnix()
		if err != nil {
			return // closed by the cleanup
		}
		// The message is queued before any call is answered, so a test
		// that saw its container get an answer finds the message.
		m, fds := a.receive(conn)
		a.states <- m
		for _, fd := range fds {
			a.wg.Add(1)
			go a.serve(fd)
		}
	}
}

// receive reads one runtime's message and the descriptors attached.
func (a *seccompAgent) receive(conn *net.UnixConn) (agentMessage, []int) {
	defer conn.Close()
	buf, oob := make([]byte, 1<<16), make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return agentMessage{Err: err.Error()}, nil
	}
	var m agentMessage
	var all []int
	if err := json.Unmarshal(buf[:n], &m.State); err != nil {
		return agentMessage{Err: err.Error()}, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return agentMessage{Err: err.Error()}, nil
	}
	for _, msg := range msgs {
		fds, err := unix.ParseUnixRights(&msg)
		if err != nil {
			return agentMessage{Err: err.Error()}, nil
		}
		all = append(all, fds...)
	}
	m.Fds = len(all)
	return m, all
}

// serve answers the notifications of one listener until every process
// under its filter is gone (POLLHUP) or the test ends.
func (a *seccompAgent) serve(fd int) {
	defer a.wg.Done()
	defer unix.Close(fd)
	for {
		select {
		case <-a.stop:
			return
		default:
		}
		// A bounded wait only so the test's end is noticed; not a timing assumption.
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, 100); err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		if fds[0].Revents&unix.POLLIN != 0 {
			a.answer(libseccomp.ScmpFd(fd))
			continue
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return
		}
	}
}

func (a *seccompAgent) answer(fd libseccomp.ScmpFd) {
	req, err := libseccomp.NotifReceive(fd)
	if err != nil {
		return // the caller died meanwhile
	}
	resp := &libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(unix.ENOSYS)}
	name, _ := req.Data.Syscall.GetNameByArch(req.Data.Arch)
	switch name {
	case "mkdir", "mkdirat":
		resp.Error, resp.Val = 0, 0
	case "rmdir":
		resp.Error = int32(unix.EXDEV)
	}
	libseccomp.NotifRespond(fd, resp)
}

// next returns the next runtime's message.
func (a *seccompAgent) next() agentMessage {
	a.t.Helper()
	select {
	case m := <-a.states:
		require.Empty(a.t, m.Err, "agent could not read the runtime's message")
		return m
	default:
		a.t.Fatal("no runtime sent the seccomp agent anything")
		return agentMessage{}
	}
}
