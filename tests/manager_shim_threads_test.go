package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/tests/fixture"
)

// maxShimThreads is issue 18's budget: a container running a
// single-threaded program costs at most five tasks, so its shim may have
// at most four threads (the main one, the Go runtime's sysmon, cgo's
// template thread and one that runs Go code or waits in a system call).
const maxShimThreads = 4

// TestManagerShimThreads: once a shim has settled after start (a second,
// shim/memory.go's settleDelay) and a few heartbeats went by, it runs on
// at most maxShimThreads threads. A count, not a timing: a shim that
// keeps the threads start-up made, or waits in blocking calls on threads
// of their own (os/signal, wait4), has 5 to 8.
func TestManagerShimThreads(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "100ms")
	ct := m.run("sleep", "1000")
	require.True(t, fixture.Alive(ct.ShimPid))
	time.Sleep(2 * time.Second) // settled, then heartbeats

	// A thread may appear for a moment while a system call blocks on a
	// busy machine; one the shim keeps never goes away.
	threads := taskNames(t, ct.ShimPid)
	for deadline := time.Now().Add(5 * time.Second); len(threads) > maxShimThreads && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		threads = taskNames(t, ct.ShimPid)
	}
	require.LessOrEqual(t, len(threads), maxShimThreads, "threads of shim %d: %s\n%s",
		ct.ShimPid, strings.Join(threads, ", "), m.shimLog(ct.ID))
	require.Len(t, taskNames(t, ct.Pid), 1, "sleep itself is single-threaded")
}

// taskNames lists the threads of pid, each as "tid:state".
func taskNames(t *testing.T, pid int) []string {
	t.Helper()
	dirs, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	require.NoError(t, err)
	var out []string
	for _, stat := range dirs {
		data, err := os.ReadFile(stat)
		if err != nil {
			continue // it ended meanwhile
		}
		// "tid (comm) state ...": the state follows the last ')'.
		s := string(data)
		state := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(state) > 0 {
			out = append(out, filepath.Base(filepath.Dir(stat))+":"+state[0])
		}
	}
	return out
}
