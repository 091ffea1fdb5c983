package shim_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/shim"
	"cm/shim/proto"

	"cm/tests/fixture"
)

// TestControl: the manager's requests on the control socket.
func TestControl(t *testing.T) {
	tests := []struct {
		name string
		// script runs in the container; it touches /dev/shm/ready when it
		// is ready for the request.
		script string
		edit   func(*specs.Spec)
		act    func(ctx context.Context, c *shim.ControlClient) error
		want   proto.ExitStatus
	}{
		{
			name:   "SIGTERM to a trap script",
			script: `trap "exit 42" TERM; touch /dev/shm/ready; while true; do sleep 0.05; done`,
			act:    func(ctx context.Context, c *shim.ControlClient) error { return c.Signal(ctx, unix.SIGTERM) },
			want:   proto.ExitStatus{ExitCode: 42},
		},
		{
			name:   "kill-all reaches every process (no PID namespace)",
			script: `sleep 1000 & touch /dev/shm/ready; wait`,
			edit:   noPidNS,
			act:    func(ctx context.Context, c *shim.ControlClient) error { return c.KillAll(ctx) },
			want:   proto.ExitStatus{ExitCode: 128 + 9, Signal: 9},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			e := newEnv(t, time.Second)
			p := e.launch(e.bundle(tc.edit, "sh", "-c", tc.script))
			e.manager.waitReport(proto.StateReady)

			// Requests that do not fit the state are refused with 409.
			require.ErrorIs(t, p.control.Delete(ctx, false), shim.ErrWrongState, "delete before DEAD needs force")
			initPid := p.start(t)
			_, err := p.control.Start(ctx)
			require.ErrorIs(t, err, shim.ErrWrongState, "second start")

			require.Eventually(t, func() bool {
				_, err := os.Stat(filepath.Join("/proc", itoa(initPid), "root/dev/shm/ready"))
				return err == nil
			}, waitLong, tick, "the script did not get ready")
			require.NoError(t, tc.act(ctx, p.control))
			dead := e.manager.waitReport(proto.StateDead)
			require.Equal(t, tc.want, dead.ExitStatus)
			require.Eventually(t, func() bool { return len(fixture.ProcessesInCgroup(p.id)) == 0 }, waitLong, tick)

			st, err := p.control.State(ctx)
			require.NoError(t, err)
			require.Equal(t, proto.StateDead, st.State)
			require.ErrorIs(t, p.control.Signal(ctx, unix.SIGTERM), shim.ErrWrongState, "signal after DEAD")
			require.NoError(t, p.control.Delete(ctx, false))
			require.Eventually(t, p.exited, waitLong, tick, "shim did not exit after delete")
		})
	}
}

// TestControlBadRequests: requests the shim cannot honour are 400.
func TestControlBadRequests(t *testing.T) {
	e := newEnv(t, time.Second)
	p := e.launch(e.bundle(nil, "sleep", "1000"))
	for _, sig := range []unix.Signal{0, 65} {
		err := p.control.Signal(t.Context(), sig)
		var se *shim.StatusError
		require.True(t, errors.As(err, &se), "signal %d: %v", sig, err)
		require.Equal(t, 400, se.Code)
	}
	// A forced delete of a container that never ran removes it all.
	require.NoError(t, p.control.Delete(t.Context(), true))
	require.Eventually(t, func() bool { return p.exited() && len(fixture.ProcessesInCgroup(p.id)) == 0 }, waitLong, tick)
}
