package seccomp

import (
	"runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime/spec"
)

// refusedByDefault are the calls the default profile must never allow.
// The list is written here, apart from the profile, so a name slipping
// into the allow-list is caught.
var refusedByDefault = []string{
	"unshare", "setns", "mount", "umount", "umount2", "pivot_root", "move_mount", "open_tree",
	"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
	"create_module", "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "ptrace",
	"process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"swapon", "swapoff", "acct", "settimeofday", "stime", "clock_settime", "clock_settime64",
	"adjtimex", "clock_adjtime", "clock_adjtime64", "open_by_handle_at", "name_to_handle_at",
	"userfaultfd", "iopl", "ioperm", "syslog", "quotactl", "quotactl_fd", "lookup_dcookie",
	"nfsservctl", "uselib", "_sysctl", "vhangup", "sethostname", "setdomainname",
	"io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
}

func TestDefaultSeccomp(t *testing.T) {
	p := spec.DefaultSeccomp()
	require.NoError(t, Validate(p))
	require.Equal(t, specs.ActErrno, p.DefaultAction)
	require.Nil(t, p.DefaultErrnoRet, "the default errno must be the spec's EPERM")

	refused := map[string]bool{}
	for _, name := range refusedByDefault {
		refused[name] = true
	}
	rules := map[string][]specs.LinuxSyscall{}
	for _, sc := range p.Syscalls {
		for _, name := range sc.Names {
			require.False(t, refused[name] && sc.Action != specs.ActErrno, "%s must not be allowed (rule action %s)", name, sc.Action)
			rules[name] = append(rules[name], sc)
		}
	}

	// Everyday calls are there.
	for _, name := range []string{"read", "write", "openat", "execve", "fork", "wait4", "socket", "connect", "futex", "mmap", "exit_group"} {
		require.Len(t, rules[name], 1, name)
		require.Equal(t, specs.ActAllow, rules[name][0].Action, name)
	}
	// clone only without namespace flags, clone3 ENOSYS.
	require.Equal(t, []specs.LinuxSyscall{{
		Names: []string{"clone"}, Action: specs.ActAllow,
		Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0x7e020000, Op: specs.OpMaskedEqual}},
	}}, rules["clone"])
	require.Len(t, rules["clone3"], 1)
	require.Equal(t, specs.ActErrno, rules["clone3"][0].Action)
	require.Equal(t, uint(38), *rules["clone3"][0].ErrnoRet)

	// Each call returns a fresh profile.
	p.Syscalls = nil
	require.NotEmpty(t, spec.DefaultSeccomp().Syscalls)
}

func TestDefaultProfileBuilds(t *testing.T) {
	f, skipped, err := Build(spec.DefaultSeccomp())
	require.NoError(t, err)
	require.Greater(t, f.Instructions(), 100)
	require.LessOrEqual(t, f.Instructions(), maxInstructions)
	// Only names of architectures the filter does not cover may be
	// skipped: anything else is a typo in the list.
	switch runtime.GOARCH {
	case "amd64":
		require.Equal(t, []string{"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush",
			"recv", "send", "set_tls", "sync_file_range2"}, skipped)
	default:
		require.NotContains(t, skipped, "read")
	}
}
