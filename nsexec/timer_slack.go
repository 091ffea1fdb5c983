package nsexec

// // The timer slack (ns) this process was started with, recorded by
// // the constructor before it raises its own (nsexec.c, "Timer slack").
// extern long nsexec_host_timer_slack;
import "C"

import "golang.org/x/sys/unix"

// The constructor raised this process's timer slack to 2 ms, for the Go
// runtime's sake (nsexec.c, "Timer slack"). A process inherits the slack
// of the thread that forks it, and keeps it across execve, so a process
// we start (stage 0, a hook, a shim) is forked from a thread set back to
// the slack we were given (ForkWithHostScheduling): the container's
// program and the hooks see the host's value, not ours.

// HostTimerSlack is the timer slack, in nanoseconds, that this process
// was started with; -1 if it could not be read.
func HostTimerSlack() int64 { return int64(C.nsexec_host_timer_slack) }

// threadToHostTimerSlack gives the calling thread, which must be locked,
// the host's timer slack, and returns what gives it ours back.
func threadToHostTimerSlack() (undo func()) {
	ours, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || int64(ours) == HostTimerSlack() || RestoreHostTimerSlack() != nil {
		return func() {} // nothing to change, or the child has ours: slower timers, nothing worse
	}
	return func() { unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(ours), 0, 0, 0) }
}

// RestoreHostTimerSlack gives the calling thread the host's timer slack
// back (nothing if it could not be read); the init calls it on the thread
// that then execs the user's program, which keeps it.
func RestoreHostTimerSlack() error {
	host := HostTimerSlack()
	if host < 0 {
		return nil
	}
	return unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(host), 0, 0, 0)
}
