package shim

import (
	"log"
	"os"
	goruntime "runtime"
	"runtime/metrics"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// steadyThreads is how many threads a settled shim keeps: the main
// thread (which can never end), the runtime's sysmon and the template
// thread every cgo program has. Go code then runs on the main thread, and
// a new thread appears only while a system call blocks.
const steadyThreads = 3

// threadExitPause is how long releaseThreads lets ended threads go.
const threadExitPause = 5 * time.Millisecond

// tidyInterval is how often a settled shim ends the threads that blocking
// system calls made since it settled, which the runtime would keep idle
// for the rest of the container's life. Not often: a shim soon has its
// fourth thread back, and ending one wakes the runtime and makes threads
// of its own, which thousands of idle shims pay for in CPU (README, "A
// shim's threads").
const tidyInterval = 2 * time.Minute

// maxReleaseRounds bounds releaseThreads, should threads keep appearing
// (a blocking system call in another goroutine) while it ends others.
const maxReleaseRounds = 16

// releaseThreads ends the threads the Go runtime made during start-up and
// would keep idle forever: the runtime never ends a thread, except one
// whose goroutine exits while locked to it. So each round runs a goroutine
// that locks its thread: on any thread but the main one it exits and the
// thread ends with it; on the main thread it stays, so that the
// goroutines it starts next run elsewhere and end theirs.
func releaseThreads() (before, after int) {
	before = threadCount()
	for range maxReleaseRounds {
		surplus := threadCount() - steadyThreads
		if surplus <= 0 {
			break
		}
		onMain := make(chan bool)
		go endThreads(surplus, onMain)
		<-onMain
		// A thread may still be counted for a moment after its goroutine
		// ended: counting at once would end a fresh one in its place.
		time.Sleep(threadExitPause)
	}
	return before, threadCount()
}

// endThreads ends the thread it runs on, or, on the main thread, n others.
// It says on onMain which it did.
func endThreads(n int, onMain chan<- bool) {
	goruntime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		onMain <- false
		return // still locked: the thread ends
	}
	defer goruntime.UnlockOSThread()
	for range n {
		ended := make(chan struct{})
		go func() {
			goruntime.LockOSThread() // never on the main thread: this goroutine holds it
			close(ended)
		}()
		<-ended
	}
	onMain <- true
}

// threadCount is how many threads this process has, by the Go runtime's
// own count. Not by reading /proc: that is a blocking system call, during
// which the runtime may hand its processor to a new thread, the very thing
// tidying looks for.
func threadCount() int {
	s := []metrics.Sample{{Name: "/sched/threads/total:threads"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return procThreads() // a toolchain without the metric
	}
	return int(s[0].Value.Uint64())
}

// procThreads is how many threads the kernel lists for this process.
func procThreads() int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0
	}
	return len(tasks)
}

// settle gives back what start-up needed and the steady state does not:
// threads first, whose stacks the memory settling then returns too.
// Creating a container gains from a second processor; a settled shim has
// nothing to run in parallel, and with one P the runtime has no reason to
// wake a second thread whenever two goroutines become runnable.
func settle() {
	goruntime.GOMAXPROCS(1)
	before, after := releaseThreads()
	log.Printf("ended idle threads: %d before, %d after", before, after)
	settleMemory()
	tidying.Do(func() { time.AfterFunc(tidyInterval, tidyThreads) })
}

// tidying starts tidyThreads once: settle runs after ready and again
// after start.
var tidying sync.Once

// tidyThreads ends surplus threads, if there are any, then runs again.
func tidyThreads() {
	if threadCount() > steadyThreads {
		releaseThreads()
	}
	time.AfterFunc(tidyInterval, tidyThreads)
}
