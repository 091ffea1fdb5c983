package tests

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/manager/api"
	"cm/shim/proto"
)

// TestManagerRefusesForgedShimMessages: a root process that is not a
// container's shim (this test) speaks on the shim socket as if it were.
// The real cmanagerd refuses it, and the real containers carry on.
func TestManagerRefusesForgedShimMessages(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms")
	forger := api.NewClient(m.ShimSocket)
	t.Cleanup(forger.Close)

	t.Run("a fake DEAD with exit code 42", func(t *testing.T) {
		m := m.in(t)
		ct := m.run("sleep", "1000")
		err := forger.Report(m.ctx(), proto.Report{ID: ct.ID, State: proto.StateDead, ExitStatus: proto.ExitStatus{ExitCode: 42}, Seq: 1000})

		now, gerr := m.Client.Get(m.ctx(), ct.ID)
		require.NoError(t, gerr)
		require.Equal(t, manager.Running, now.State, "the forged DEAD was applied: %+v", now)
		require.NoError(t, syscall.Kill(ct.Pid, 0), "the container's init runs on")
		require.Equal(t, 403, api.StatusOf(err), "%v", err)
	})

	t.Run("a re-register of A naming B's control socket", func(t *testing.T) {
		m := m.in(t)
		a, b := m.run("sleep", "1000"), m.run("sleep", "1000")
		bControl := filepath.Join(m.StateDir, "containers", b.ID, "shim.sock")
		_, err := forger.Register(m.ctx(), proto.Register{ID: a.ID, Pid: os.Getpid(), Control: bControl, State: proto.StateRunning, ContainerPid: a.Pid})

		m.cmctlOK("kill", a.ID, "KILL")
		_, waitErr := m.Client.Wait(m.ctx(), a.ID, manager.Dead)
		bNow, gerr := m.Client.Get(m.ctx(), b.ID)
		require.NoError(t, gerr)
		require.Equal(t, manager.Running, bNow.State, "kill A reached B: %+v", bNow)
		require.NoError(t, syscall.Kill(b.Pid, 0), "B's init runs on")
		require.NoError(t, waitErr, "A was not killed")
		require.Equal(t, 403, api.StatusOf(err), "%v", err)
	})
}

// TestManagerIdleConnectionsCannotStarveClients: more idle connections
// than the daemon has descriptors for; a real client still gets its
// answer, because past --max-conns the oldest idle connection is closed.
func TestManagerIdleConnectionsCannotStarveClients(t *testing.T) {
	const maxConns, nofile = 64, 256
	m := startManager(t, t.TempDir(), "--max-conns", strconv.Itoa(maxConns))
	// Few descriptors, as when other work holds the rest: without a cap,
	// idle connections take the last ones and accept fails.
	lim := unix.Rlimit{Cur: nofile, Max: nofile}
	require.NoError(t, unix.Prlimit(m.cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil))

	idle := make([]net.Conn, nofile+100)
	for i := range idle {
		c, err := net.Dial("unix", m.Socket)
		require.NoError(t, err)
		idle[i] = c
		defer c.Close()
	}

	// Generous, not a threshold: a client that gets no answer hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(binDir, "cmctl"), "--socket", m.Socket, "ps").CombinedOutput()
	require.NoError(t, err, "cmctl ps: %s", out)

	// The daemon closed the oldest connections to stay under the cap.
	for i, c := range idle[:len(idle)-maxConns] {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(waitLong)))
		_, err := c.Read(make([]byte, 1))
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded, "idle connection %d of %d is still open", i, len(idle))
	}
}
