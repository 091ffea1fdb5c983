package shim_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/shim"
	"cm/shim/proto"
)

// TestManagerDown: the manager goes away and comes back on the same
// socket; the shim keeps the container, keeps what happened, registers
// again and delivers it.
func TestManagerDown(t *testing.T) {
	tests := []struct {
		name      string
		exitWhile bool // the container exits while the manager is down
	}{
		{name: "container exits while the manager is down", exitWhile: true},
		{name: "quick restart between heartbeats", exitWhile: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 100*time.Millisecond)
			bundle := e.bundle(nil, "sh", "-c", "while [ ! -e /dev/shm/go ]; do sleep 0.05; done; exit 7")
			p := e.launch(bundle)
			e.manager.waitReport(proto.StateReady)
			initPid := p.start(t)
			e.manager.waitReport(proto.StateRunning)
			regsBefore := len(waitRegistered(t, e.manager, 1))

			e.manager.stop()
			if tc.exitWhile {
				require.NoError(t, os.WriteFile(filepath.Join("/proc", itoa(initPid), "root/dev/shm/go"), nil, 0o644))
				// Kept on disk while nobody listens.
				require.Eventually(t, func() bool {
					st, err := shim.ReadStatus(p.stateDir)
					return err == nil && st.State == proto.StateDead && st.ExitCode == 7
				}, waitLong, tick, "exit status not kept in status.json")
				require.False(t, p.exited(), "the shim must wait for the manager")
			}
			e.manager.start()

			regs := waitRegistered(t, e.manager, regsBefore+1)
			if !tc.exitWhile {
				last := regs[len(regs)-1]
				require.Equal(t, proto.StateRunning, last.State)
				require.Nil(t, last.Exit)
				// The container kept running meanwhile; end it now.
				require.NoError(t, os.WriteFile(filepath.Join("/proc", itoa(initPid), "root/dev/shm/go"), nil, 0o644))
			}
			dead := e.manager.waitReport(proto.StateDead)
			require.Equal(t, 7, dead.ExitCode)
			require.Equal(t, []proto.State{proto.StateReady, proto.StateRunning, proto.StateDead}, e.manager.states())
			if tc.exitWhile {
				regs, _, _ = e.manager.snapshot()
				last := regs[len(regs)-1]
				require.Equal(t, proto.StateDead, last.State, "the registration carries the state")
				require.NotNil(t, last.Exit)
				require.Equal(t, 7, last.Exit.ExitCode)
			}
		})
	}
}
