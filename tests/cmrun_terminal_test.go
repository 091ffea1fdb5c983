package tests

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestRunWithTerminal runs a terminal container in the foreground, as a
// person at a terminal would, and reads what the container printed.
func TestRunWithTerminal(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	}, "sh", "-c", "tty; stty size; exit 5")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })

	master, slave := openPty(t)
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "run", "--bundle", bundle, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	require.NoError(t, cmd.Start())
	slave.Close()
	out := readAll(master)
	err := cmd.Wait()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "cmrun run: %v, output %q", err, out)
	require.Equal(t, 5, exit.ExitCode(), out)
	// The container's own devpts: its first terminal is number 0.
	require.Contains(t, out, "/dev/pts/0")
	// Our terminal's size is copied in (openPty made it 24x80).
	require.Contains(t, out, "24 80")
	e.requireNoLeftovers(id, bundle)
}

// TestConsoleSocket is what podman and containerd do: create with
// --console-socket, receive the pty master, start, read the output.
func TestConsoleSocket(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Process.ConsoleSize = &specs.Box{Height: 40, Width: 120}
	}, "sh", "-c", "tty; stty size; echo hello")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	sockPath := filepath.Join(e.dir, "console.sock")
	l, err := net.Listen("unix", sockPath)
	require.NoError(t, err)
	defer l.Close()
	got := make(chan *os.File, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer conn.Close()
		got <- recvFd(conn.(*net.UnixConn))
	}()
	r := e.cmrun("create", "--bundle", bundle, "--console-socket", sockPath, id)
	require.Equal(t, 0, r.code, r.stderr)
	var master *os.File
	select {
	case master = <-got:
	case <-time.After(waitLong):
		t.Fatal("no pty master arrived on the console socket")
	}
	require.NotNil(t, master)
	defer master.Close()
	require.Equal(t, 0, e.cmrun("start", id).code)
	out := readAll(master)
	require.Contains(t, out, "/dev/pts/0")
	require.Contains(t, out, "40 120")
	require.Contains(t, out, "hello")
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	require.Equal(t, 0, e.cmrun("delete", id).code)
	e.requireNoLeftovers(id, bundle)
}

// openPty returns a pseudo-terminal pair sized 24x80.
func openPty(t *testing.T) (*os.File, *os.File) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { master.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	require.NoError(t, unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}))
	slave, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	return master, slave
}

// readAll reads a pty master until the other side is gone (EIO).
func readAll(master *os.File) string {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		master.SetReadDeadline(time.Now().Add(waitLong))
		n, err := master.Read(buf)
		sb.Write(buf[:n])
		if err != nil || errors.Is(err, io.EOF) {
			return strings.ReplaceAll(sb.String(), "\r\n", "\n")
		}
	}
}

func recvFd(conn *net.UnixConn) *os.File {
	buf := make([]byte, 256)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil
	}
	return os.NewFile(uintptr(fds[0]), "pty-master")
}
