package seccomp

import (
	"fmt"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Load loads the filter into the kernel with one seccomp(2) call. From
// then on it applies to every thread of the process (TSYNC) and to all
// they execve; nothing can remove it.
//
// With setNoNewPrivs, the no_new_privs bit is set first (what libseccomp
// does by default), which lets any process load a filter. The init
// passes process.noNewPrivileges here. When that is false, setuid
// programs in the container must keep working, so the bit is left alone
// and the kernel instead requires CAP_SYS_ADMIN in the effective set:
// like runc, the init must then load the filter before it drops its
// capabilities, and the profile must allow the calls the init makes
// after that (setresuid, capset, prctl, execve...).
func (f *Filter) Load(setNoNewPrivs bool) error {
	if f.HasListener() {
		return fmt.Errorf("load seccomp filter: its SCMP_ACT_NOTIFY rules need a listener (use LoadListener)")
	}
	_, err := f.load(setNoNewPrivs)
	return err
}

// HasListener tells whether the filter has SCMP_ACT_NOTIFY rules, so
// loading it makes a listener for a seccomp agent (LoadListener).
func (f *Filter) HasListener() bool {
	return f.flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
}

// LoadListener is Load for a filter with SCMP_ACT_NOTIFY rules: it
// returns the listener, the descriptor on which a seccomp agent receives
// the notified calls (seccomp_unotify(2)). The caller must hand it to the
// agent before a notified call is made, or that call waits forever.
func (f *Filter) LoadListener(setNoNewPrivs bool) (listener int, err error) {
	if !f.HasListener() {
		return -1, fmt.Errorf("load seccomp filter: it has no SCMP_ACT_NOTIFY rule, so no listener")
	}
	r, err := f.load(setNoNewPrivs)
	return int(r), err
}

// load makes the seccomp(2) call; its result is the listener's fd with
// NEW_LISTENER, 0 otherwise.
func (f *Filter) load(setNoNewPrivs bool) (uintptr, error) {
	if len(f.program) == 0 {
		return 0, fmt.Errorf("load seccomp filter: empty program (make filters with Build)")
	}
	if setNoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return 0, fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	prog := unix.SockFprog{Len: uint16(len(f.program)), Filter: &f.program[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, uintptr(unsafe.Pointer(&prog)))
	switch {
	case errno == unix.EACCES && !setNoNewPrivs:
		return 0, fmt.Errorf("load seccomp filter: %w (without no_new_privs the thread needs CAP_SYS_ADMIN: load before dropping capabilities)", errno)
	case errno == unix.ESRCH && f.HasListener():
		return 0, fmt.Errorf("load seccomp filter: a thread cannot be synchronised (it has an unrelated filter of its own)")
	case errno != 0:
		return 0, fmt.Errorf("load seccomp filter: %w", errno)
	case r != 0 && !f.HasListener():
		// With TSYNC, a positive result names a thread that could not
		// take the filter (it has an unrelated filter of its own).
		return 0, fmt.Errorf("load seccomp filter: thread %d cannot be synchronised", r)
	}
	return r, nil
}

// Load builds the profile and loads it with no_new_privs set: the usual
// last step before execve. It returns the skipped syscall names (see
// Build). A nil profile loads nothing.
func Load(s *specs.LinuxSeccomp) (skipped []string, err error) {
	if s == nil {
		return nil, nil
	}
	f, skipped, err := Build(s)
	if err != nil {
		return nil, err
	}
	if err := f.Load(true); err != nil {
		return nil, err
	}
	return skipped, nil
}
