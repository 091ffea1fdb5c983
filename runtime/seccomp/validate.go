package seccomp

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks everything in a profile that can be checked without
// libseccomp or the kernel: actions, errno values, comparison operators,
// argument indexes, architecture and flag names, and the spelling of
// syscall names. Every problem is reported, one line each, naming the
// field, e.g. `linux.seccomp.syscalls[3].action: unknown action
// "SCMP_ACT_FOO"`. A nil profile (no seccomp) is valid.
//
// Whether a syscall name exists is not checked here: that depends on the
// architectures, and unknown names are skipped by Build, not refused.
func Validate(s *specs.LinuxSeccomp) error {
	if s == nil {
		return nil
	}
	const prefix = "linux.seccomp"
	var errs []error
	errs = append(errs, checkAction(prefix+".defaultAction", s.DefaultAction)...)
	errs = append(errs, checkErrno(prefix+".defaultErrnoRet", s.DefaultAction, s.DefaultErrnoRet)...)
	for i, a := range s.Architectures {
		if _, ok := architectures[a]; !ok {
			errs = append(errs, invalid(fmt.Sprintf("%s.architectures[%d]", prefix, i), "unknown architecture %q", a))
		}
	}
	for i, f := range s.Flags {
		field := fmt.Sprintf("%s.flags[%d]", prefix, i)
		switch {
		case f == specs.LinuxSeccompFlagLog || f == specs.LinuxSeccompFlagSpecAllow || f == flagTSYNC:
		case unsupportedFlags[f]:
			errs = append(errs, notSupported(field, "flag %q is not supported", f))
		default:
			errs = append(errs, invalid(field, "unknown flag %q", f))
		}
	}
	if s.DefaultAction == specs.ActNotify {
		// As runc: the init's own calls after the filter would all wait
		// for an agent that does not have the listener yet.
		errs = append(errs, invalid(prefix+".defaultAction", "%s cannot be the default action", specs.ActNotify))
	}
	for i, sc := range s.Syscalls {
		errs = append(errs, checkSyscall(fmt.Sprintf("%s.syscalls[%d]", prefix, i), sc)...)
	}
	// The listener goes to the agent at listenerPath: without one,
	// every notified call would wait forever.
	if i := notifyRule(s); i >= 0 && s.ListenerPath == "" {
		errs = append(errs, invalid(prefix+".listenerPath", "missing: syscalls[%d] uses %s, which needs a seccomp agent listening there", i, specs.ActNotify))
	}
	return errors.Join(errs...)
}

// notifyRule returns the index of the first rule whose action is
// SCMP_ACT_NOTIFY, or -1.
func notifyRule(s *specs.LinuxSeccomp) int {
	for i, sc := range s.Syscalls {
		if sc.Action == specs.ActNotify {
			return i
		}
	}
	return -1
}

// NeedsListener tells whether loading the profile makes a listener that
// must be sent to the seccomp agent at s.ListenerPath.
func NeedsListener(s *specs.LinuxSeccomp) bool {
	return s != nil && notifyRule(s) >= 0
}

func checkAction(field string, a specs.LinuxSeccompAction) []error {
	switch _, ok := actions[a]; {
	case ok:
		return nil
	case a == "":
		return []error{invalid(field, "missing")}
	default:
		return []error{invalid(field, "unknown action %q", a)}
	}
}

func checkErrno(field string, a specs.LinuxSeccompAction, errno *uint) []error {
	switch {
	case errno == nil:
		return nil
	case !takesErrno(a):
		// The spec asks runtimes to fail rather than ignore it.
		return []error{invalid(field, "%s does not return an errno (only %s and %s do)", a, specs.ActErrno, specs.ActTrace)}
	case *errno > maxErrno:
		return []error{invalid(field, "%d is above the largest errno, %d", *errno, maxErrno)}
	}
	return nil
}

func checkSyscall(field string, sc specs.LinuxSyscall) []error {
	var errs []error
	if len(sc.Names) == 0 {
		errs = append(errs, invalid(field+".names", "empty"))
	}
	for i, name := range sc.Names {
		if !wellFormedName(name) {
			errs = append(errs, invalid(fmt.Sprintf("%s.names[%d]", field, i), "%q is not a syscall name", name))
		}
	}
	errs = append(errs, checkAction(field+".action", sc.Action)...)
	if sc.Action == specs.ActNotify {
		for i, name := range sc.Names {
			// As runc: the init reports the listener to cmrun with write(2)
			// after the filter is loaded, before any agent has it.
			if name == "write" {
				errs = append(errs, invalid(fmt.Sprintf("%s.names[%d]", field, i), "%s cannot be used for the write syscall", specs.ActNotify))
			}
		}
	}
	errs = append(errs, checkErrno(field+".errnoRet", sc.Action, sc.ErrnoRet)...)
	for i, arg := range sc.Args {
		argField := fmt.Sprintf("%s.args[%d]", field, i)
		if arg.Index > 5 {
			errs = append(errs, invalid(argField+".index", "%d is out of range: syscalls have arguments 0 to 5", arg.Index))
		}
		if _, ok := operators[arg.Op]; !ok {
			errs = append(errs, invalid(argField+".op", "unknown operator %q", arg.Op))
		}
	}
	return errs
}

// wellFormedName tells whether name could be a syscall name at all:
// letters, digits and underscores ("_llseek", "arm_fadvise64_64").
// Anything else is a broken profile, not a syscall of another kernel.
func wellFormedName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
