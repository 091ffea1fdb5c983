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
	if len(f.program) == 0 {
		return fmt.Errorf("load seccomp filter: empty program (make filters with Build)")
	}
	if setNoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	prog := unix.SockFprog{Len: uint16(len(f.program)), Filter: &f.program[0]}
	r, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, f.flags, uintptr(unsafe.Pointer(&prog)))
	switch {
	case errno == unix.EACCES && !setNoNewPrivs:
		return fmt.Errorf("load seccomp filter: %w (without no_new_privs the thread needs CAP_SYS_ADMIN: load before dropping capabilities)", errno)
	case errno != 0:
		return fmt.Errorf("load seccomp filter: %w", errno)
	case r != 0:
		// With TSYNC, a positive result names a thread that could not
		// take the filter (it has an unrelated filter of its own).
		return fmt.Errorf("load seccomp filter: thread %d cannot be synchronised", r)
	}
	return nil
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
