package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestShimReaper: children handed to the reaper leave no zombie once they
// exit, and it never takes the exit status of a child it was not given.
func TestShimReaper(t *testing.T) {
	var watched []int
	for range 3 {
		cmd := exec.Command("sleep", "0.05")
		require.NoError(t, cmd.Start())
		pid := cmd.Process.Pid // Release forgets it
		watched = append(watched, pid)
		cmd.Process.Release()
		shims.add(pid)
	}
	other := exec.Command("sh", "-c", "exit 7")
	require.NoError(t, other.Start())

	for _, pid := range watched {
		// A zombie keeps its /proc entry until it is reaped.
		require.Eventually(t, func() bool {
			_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
			return os.IsNotExist(err)
		}, 5*time.Second, 10*time.Millisecond, "pid %d was not reaped", pid)
	}
	require.Eventually(t, func() bool { return shims.watched() == 0 }, 5*time.Second, 10*time.Millisecond)
	err := other.Wait()
	require.Error(t, err)
	require.Equal(t, 7, other.ProcessState.ExitCode(), "the other child's status is its waiter's")
}
