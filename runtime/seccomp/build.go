package seccomp

import (
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Build validates a profile and compiles it into a BPF program, without
// loading anything. All of libseccomp's work happens here (milliseconds
// for the default profile), so the init can build early and keep the
// last step before execve, Filter.Load, down to one system call.
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
	defer scmp.Release()
	// A binary tree over syscall numbers instead of libseccomp's default
	// linear list: the kernel walks the program for every syscall number
	// when it loads a filter (to cache the always-allowed ones), so the
	// default profile loads several times faster, and each syscall of
	// the container runs a few instructions, not hundreds.
	if err := scmp.SetOptimize(2); err != nil {
		return nil, nil, fmt.Errorf("ask libseccomp for a binary-tree filter: %w", err)
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

	// TSYNC is always on: libseccomp's Go binding sets it in NewFilter,
	// and a Go process needs it (see the package comment).
	f = &Filter{flags: unix.SECCOMP_FILTER_FLAG_TSYNC}
	for _, flag := range s.Flags {
		switch flag {
		case specs.LinuxSeccompFlagLog:
			f.flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			f.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		}
	}

	if NeedsListener(s) {
		// The kernel returns the listener only with NEW_LISTENER, and
		// takes it with TSYNC only if a thread it cannot synchronise is
		// reported as ESRCH (the result is the listener's fd instead).
		f.flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	for i, sc := range s.Syscalls {
		skippedHere, err := addRules(scmp, sc, defaultAction, arches)
		if err != nil {
			return nil, nil, fmt.Errorf("linux.seccomp.syscalls[%d]: %w", i, err)
		}
		skipped = append(skipped, skippedHere...)
	}
	if f.program, err = compile(scmp); err != nil {
		return nil, nil, err
	}
	if stub := enosysStub(s, native); stub != nil {
		if len(stub)+len(f.program) > maxInstructions {
			return nil, nil, fmt.Errorf("linux.seccomp: BPF program of %d instructions is longer than the kernel takes (%d)", len(stub)+len(f.program), maxInstructions)
		}
		f.program = append(stub, f.program...)
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
