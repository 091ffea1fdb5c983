package shim_test

import (
	"context"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/runtime"
	"cm/shim"
	"cm/shim/proto"
)

// TestPauseResumeUpdate: pause freezes the container and reports PAUSED,
// resume thaws it and reports RUNNING, update changes its limits, and a
// signal to a paused container is delivered: the shim thaws it.
func TestPauseResumeUpdate(t *testing.T) {
	e := newEnv(t, time.Second)
	p := e.launch(e.bundle(nil, "sleep", "1000"))
	ctx := context.Background()
	_, err := p.control.State(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, p.control.Pause(ctx), shim.ErrWrongState, "pause of a READY container")
	p.start(t)
	e.manager.waitReport(proto.StateRunning)
	status := func() specs.ContainerState {
		c, err := runtime.Load(e.rtRoot, p.id)
		require.NoError(t, err)
		return c.Status()
	}

	require.NoError(t, p.control.Pause(ctx))
	e.manager.waitReport(proto.StatePaused)
	require.Equal(t, runtime.StatusPaused, status())
	st, err := p.control.State(ctx)
	require.NoError(t, err)
	require.Equal(t, proto.StatePaused, st.State)
	require.ErrorIs(t, p.control.Pause(ctx), shim.ErrWrongState, "pause of a PAUSED container")

	pids := int64(42)
	require.NoError(t, p.control.Update(ctx, specs.LinuxResources{Pids: &specs.LinuxPids{Limit: &pids}}))
	c, err := runtime.Load(e.rtRoot, p.id)
	require.NoError(t, err)
	require.Equal(t, pids, *c.Config.Linux.Resources.Pids.Limit)
	require.Error(t, p.control.Update(ctx, map[string]any{"memory": "lots"}), "a body that is not linux.resources")

	require.NoError(t, p.control.Resume(ctx))
	require.Equal(t, specs.StateRunning, status())
	require.ErrorIs(t, p.control.Resume(ctx), shim.ErrWrongState, "resume of a RUNNING container")

	require.NoError(t, p.control.Pause(ctx))
	require.NoError(t, p.control.Signal(ctx, unix.SIGKILL))
	dead := e.manager.waitReport(proto.StateDead)
	require.Equal(t, int(unix.SIGKILL), dead.Signal, "SIGKILL delivered at the thaw")
	require.Equal(t, []proto.State{proto.StateReady, proto.StateRunning, proto.StatePaused, proto.StateRunning, proto.StatePaused, proto.StateRunning, proto.StateDead}, e.manager.states())
}
