package bench

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTreeThreads(t *testing.T) {
	// A shell with two children: three single-threaded processes.
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so the cleanup kills the sleeps too
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})

	var tree []int
	require.Eventually(t, func() bool {
		table, err := ReadProcTable()
		require.NoError(t, err)
		tree = table.Tree(cmd.Process.Pid)
		return len(tree) == 3
	}, 5*time.Second, 10*time.Millisecond, "the shell and its two sleeps")
	require.Equal(t, cmd.Process.Pid, tree[0])

	table, err := ReadProcTable()
	require.NoError(t, err)
	n, err := table.TreeThreads(cmd.Process.Pid, tree[1])
	require.NoError(t, err)
	require.Equal(t, 3, n, "a root given twice (as the program is) counts once")

	_, err = Threads(-1)
	require.ErrorContains(t, err, "threads of pid -1")
}
