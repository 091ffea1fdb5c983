package runtime

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/capabilities"
	"cm/runtime/seccomp"
)

// finalizeProcess gives the init the identity of the user's program:
// its user and groups, its capabilities and no_new_privs. It runs after
// everything that needs privilege, on the thread that will execve. It
// returns the seccomp filter still to load just before execve (nil if
// there is none, or if it had to be loaded here), the filter's listener
// if it was loaded here with one (-1 otherwise), and warnings to report.
func finalizeProcess(p *specs.Process, filterData []byte) (_ *seccomp.Filter, listener int, _ []string, _ error) {
	listener = -1
	var filter *seccomp.Filter
	if filterData != nil {
		filter = new(seccomp.Filter)
		if err := filter.UnmarshalBinary(filterData); err != nil {
			return nil, -1, nil, fmt.Errorf("linux.seccomp: %w", err)
		}
	}
	caps, err := capabilities.Parse(p.Capabilities)
	if err != nil {
		return nil, -1, nil, err
	}
	warnings := append([]string{}, caps.Warnings...)
	for _, name := range caps.Missing {
		warnings = append(warnings, fmt.Sprintf("process.capabilities: %s is not supported by this kernel, left out", name))
	}
	// Without no_new_privs the kernel only lets a thread holding
	// CAP_SYS_ADMIN load a filter: load it now, before the capabilities
	// go. The profile must then allow what the init still does.
	if filter != nil && !p.NoNewPrivileges {
		if filter.HasListener() {
			listener, err = filter.LoadListener(false)
		} else {
			err = filter.Load(false)
		}
		if err != nil {
			return nil, -1, nil, fmt.Errorf("linux.seccomp: %w", err)
		}
		filter = nil
	}
	w, err := caps.DropBounding()
	if err != nil {
		return nil, -1, nil, fmt.Errorf("process.capabilities.bounding: %w", err)
	}
	warnings = append(warnings, w...)
	// Keep the permitted set across the uid change; execve clears the flag.
	if err := capabilities.SetKeepCaps(true); err != nil {
		return nil, -1, nil, err
	}
	if err := setUser(p.User); err != nil {
		return nil, -1, nil, err
	}
	w, err = caps.ApplyAfterUserChange()
	if err != nil {
		return nil, -1, nil, fmt.Errorf("process.capabilities: %w", err)
	}
	warnings = append(warnings, w...)
	// The process stays non-dumpable (nsexec made it so): the kernel
	// still lets it use its own /proc/self/fd, and execve decides
	// dumpability afresh for the user's program.
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return nil, -1, nil, fmt.Errorf("process.noNewPrivileges: %w", err)
		}
	}
	return filter, listener, warnings, nil
}
