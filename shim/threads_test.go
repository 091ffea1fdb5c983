package shim

import (
	goruntime "runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestReleaseThreads: threads that blocking system calls made, idle
// since, are ended, down to what a settled shim keeps (and at most one
// more, for a call the test's own runtime may have blocked in).
func TestReleaseThreads(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(1))
	// Each goroutine blocks in a system call on a thread of its own, then
	// lets the thread go back to the runtime, which keeps it idle.
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			unix.Nanosleep(&unix.Timespec{Nsec: int64(20 * time.Millisecond)}, nil)
		}()
	}
	wg.Wait()
	made := threadCount()
	require.Greater(t, made, steadyThreads+1, "the test made no idle threads")

	before, after := releaseThreads()
	require.GreaterOrEqual(t, before, made-1)
	require.LessOrEqual(t, after, steadyThreads+1, "threads before: %d", before)
	require.Equal(t, after, threadCount())
	// threadCount is the runtime's own count: the kernel lists as many.
	require.Eventually(t, func() bool { return procThreads() == threadCount() }, time.Second, 10*time.Millisecond,
		"runtime %d, /proc %d", threadCount(), procThreads())
}
