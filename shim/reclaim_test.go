package shim_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/runtime"
)

// TestReclaim: "cmshim reclaim" removes a container whose shim was
// killed, its processes with it, and a container the runtime does not
// know is no error.
func TestReclaim(t *testing.T) {
	e := newEnv(t, time.Hour)
	p := e.launch(e.bundle(nil, "sleep", "1000"))
	initPid := p.start(t)
	require.NoError(t, unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0))
	require.Eventually(t, p.exited, waitLong, tick)
	require.NoError(t, unix.Kill(initPid, 0), "the container outlives its shim")

	reclaim := func(id string) (string, error) {
		out, err := exec.Command(filepath.Join(binDir, "cmshim"), "reclaim", "--id", id, "--runtime-root", e.rtRoot).CombinedOutput()
		return string(out), err
	}
	out, err := reclaim(p.id)
	require.NoError(t, err, out)
	_, err = runtime.Load(e.rtRoot, p.id)
	require.ErrorIs(t, err, runtime.ErrNotExist)
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join("/proc", itoa(initPid)))
		return os.IsNotExist(err)
	}, waitLong, tick, "the container's init is gone")

	out, err = reclaim(p.id)
	require.NoError(t, err, "a container the runtime does not know: %s", out)
	out, err = reclaim("../x")
	require.Error(t, err)
	require.Contains(t, out, `container id "../x"`)
}
