package seccomp

import (
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Filter is a seccomp filter built from a profile, not yet loaded. It
// holds C memory: Release it when done (loading does not release it).
type Filter struct {
	scmp *libseccomp.ScmpFilter
}

// Build validates a profile and turns it into a filter, without loading
// anything into the kernel.
//
// Syscall names that libseccomp does not know, or that no architecture
// of the filter has, are skipped and returned, sorted and without
// duplicates, for the caller to log at debug level: profiles are shared
// across kernels and architectures, so this is normal. The filter always
// covers the native architecture, plus the ones the profile lists; a
// syscall made with any other architecture's convention kills the thread
// (libseccomp's default bad-architecture action).
func Build(s *specs.LinuxSeccomp) (f *Filter, skipped []string, err error) {
	if s == nil {
		return nil, nil, fmt.Errorf("linux.seccomp: no profile: %w", ErrInvalid)
	}
	if err := Validate(s); err != nil {
		return nil, nil, err
	}
	defaultAction := toAction(s.DefaultAction, s.DefaultErrnoRet)
	scmp, err := libseccomp.NewFilter(defaultAction)
	if err != nil {
		return nil, nil, fmt.Errorf("linux.seccomp.defaultAction %s: %w", s.DefaultAction, err)
	}
	f = &Filter{scmp: scmp}
	defer func() {
		if err != nil {
			f.Release()
			f = nil
		}
	}()
	// Report the kernel's own errno from Load (EACCES, EINVAL, ...)
	// instead of libseccomp's generic ECANCELED.
	if err := scmp.SetRawRC(true); err != nil {
		return nil, nil, fmt.Errorf("ask libseccomp for raw errors: %w", err)
	}

	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, nil, fmt.Errorf("native architecture: %w", err)
	}
	arches := []libseccomp.ScmpArch{native}
	for i, a := range s.Architectures {
		arch := architectures[a]
		if err := scmp.AddArch(arch); err != nil {
			major, minor, micro := libseccomp.GetLibraryVersion()
			return nil, nil, fmt.Errorf("linux.seccomp.architectures[%d]: %s with libseccomp %d.%d.%d: %w",
				i, a, major, minor, micro, err)
		}
		arches = append(arches, arch)
	}

	for i, flag := range s.Flags {
		var err error
		switch flag {
		case specs.LinuxSeccompFlagLog:
			err = scmp.SetLogBit(true)
		case specs.LinuxSeccompFlagSpecAllow:
			err = scmp.SetSSB(true)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.flags[%d] %s: %w", i, flag, err)
		}
	}

	for i, sc := range s.Syscalls {
		skippedHere, err := addRules(scmp, sc, defaultAction, arches)
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		skipped = append(skipped, skippedHere...)
	}
	slices.Sort(skipped)
	return f, slices.Compact(skipped), nil
}

// addRules adds the libseccomp rules for one OCI syscall rule and returns
// the names it skipped.
func addRules(scmp *libseccomp.ScmpFilter, sc specs.LinuxSyscall, defaultAction libseccomp.ScmpAction, arches []libseccomp.ScmpArch) (skipped []string, err error) {
	action := toAction(sc.Action, sc.ErrnoRet)
	if action == defaultAction {
		// Profiles often repeat the default; libseccomp refuses such a
		// rule, and it would change nothing.
		return nil, nil
	}
	conditions, err := ruleConditions(sc.Args)
	if err != nil {
		return nil, err
	}
	for _, name := range sc.Names {
		call, ok := resolve(name, arches)
		if !ok {
			skipped = append(skipped, name)
			continue
		}
		for _, conds := range conditions {
			if err := scmp.AddRuleConditional(call, action, conds); err != nil {
				return nil, fmt.Errorf("add rule for %s: %w", name, err)
			}
		}
	}
	return skipped, nil
}

// resolve finds the number libseccomp wants for a syscall name, and
// whether any of the filter's architectures has that syscall.
//
// For a name the native architecture lacks but another one has
// ("socketcall" on x86_64, which the x86 half of the filter needs),
// libseccomp gives a negative pseudo-number that it translates per
// architecture when the rule is added.
func resolve(name string, arches []libseccomp.ScmpArch) (libseccomp.ScmpSyscall, bool) {
	call, err := libseccomp.GetSyscallFromName(name)
	if err != nil {
		return 0, false
	}
	for _, arch := range arches {
		if nr, err := libseccomp.GetSyscallFromNameByArch(name, arch); err == nil && nr >= 0 {
			return call, true
		}
	}
	return 0, false
}

// Load loads the filter into the kernel. From then on it applies to
// every thread of the calling process and to everything they execve;
// nothing can remove it.
//
// With setNoNewPrivs, the no_new_privs bit is set first (libseccomp's
// default), which lets any process load a filter. The init passes
// process.noNewPrivileges here: when that is false, setuid programs in
// the container must keep working, so the bit is left alone and the
// kernel instead requires CAP_SYS_ADMIN in the effective set. Like runc,
// the init must then load the filter before it drops its capabilities,
// and the profile must allow the system calls the init makes after that.
func (f *Filter) Load(setNoNewPrivs bool) error {
	if err := f.scmp.SetNoNewPrivsBit(setNoNewPrivs); err != nil {
		return fmt.Errorf("set the no_new_privs attribute: %w", err)
	}
	if err := f.scmp.Load(); err != nil {
		if !setNoNewPrivs && errors.Is(err, unix.EACCES) {
			return fmt.Errorf("load seccomp filter: %w (without no_new_privs the thread needs CAP_SYS_ADMIN: load before dropping capabilities)", err)
		}
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	return nil
}

// Release frees the filter's C memory. The filter cannot be used after.
func (f *Filter) Release() {
	f.scmp.Release()
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
	defer f.Release()
	if err := f.Load(true); err != nil {
		return nil, err
	}
	return skipped, nil
}
