package nsexec

import "runtime"

// ForkWithHostScheduling runs fork, which starts a process (os/exec's
// Start, syscall.ForkExec), on a thread given back what the constructor
// changed for this process's own sake: the host's timer slack
// (timer_slack.go) and, in cmrun, every CPU (one_cpu.go). A process
// inherits both from the thread that forks it, and keeps them across
// execve; Go forks on the thread of the goroutine that asks, hence the
// locked thread. The container's program, the hooks and a shim's second
// start thus see what cm itself was given.
func ForkWithHostScheduling(fork func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer threadToHostTimerSlack()()
	defer threadToAllCPUs()()
	return fork()
}
