package spec

import (
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultSeccomp returns cmrun's default seccomp profile: every system
// call not listed fails with EPERM, and the list holds what ordinary
// programs need (a shell, coreutils, ps, network clients and servers,
// threaded runtimes). Left out, and so refused, are the calls that
// reach past the container: namespaces (unshare, setns), mounts,
// kernel modules, kexec and reboot, keyrings, bpf, perf, ptrace and
// other processes' memory, the system clock, swap, accounting, and
// file handles that bypass path lookup.
//
// Two calls are allowed only with some arguments: clone without any
// flag that creates a namespace (plain fork and new threads work), and
// personality with the few values programs really use. clone3 fails with
// ENOSYS, not EPERM: its flags sit in memory a filter cannot read, and
// ENOSYS makes libc fall back to clone, whose flags it can.
//
// Each call returns a new profile the caller may change.
func DefaultSeccomp() *specs.LinuxSeccomp {
	enosys := uint(unix.ENOSYS)
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno, // EPERM, the spec's default errno
		Architectures: defaultArchitectures(),
		Syscalls: []specs.LinuxSyscall{
			{Names: defaultAllowed(), Action: specs.ActAllow},
			{
				// A masked compare: allowed when flags & namespaceCloneFlags == 0.
				Names:  []string{"clone"},
				Action: specs.ActAllow,
				Args:   []specs.LinuxSeccompArg{{Index: 0, Value: namespaceCloneFlags, ValueTwo: 0, Op: specs.OpMaskedEqual}},
			},
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
			{
				// Several conditions on argument 0 are alternatives (see
				// ruleConditions in runtime/seccomp): any one of these values is allowed.
				Names:  []string{"personality"},
				Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{
					{Index: 0, Value: perLinux, Op: specs.OpEqualTo},
					{Index: 0, Value: perLinux32, Op: specs.OpEqualTo},
					{Index: 0, Value: unameTwentySix, Op: specs.OpEqualTo},
					{Index: 0, Value: unameTwentySix | perLinux32, Op: specs.OpEqualTo},
					{Index: 0, Value: personalityQuery, Op: specs.OpEqualTo},
				},
			},
		},
	}
}

// namespaceCloneFlags are the clone flags that create a namespace. The clone
// rule of the default profile assumes flags in argument 0, which holds
// on x86 and arm (not on s390).
const namespaceCloneFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// The personality values programs use (personality(2)): plain Linux,
// 32-bit uname ("linux32"), a 2.6 version number in uname, and the query.
const (
	perLinux         = 0x0000
	perLinux32       = 0x0008
	unameTwentySix   = 0x0020000
	personalityQuery = 0xffffffff
)

// defaultArchitectures lists the native architecture and the 32-bit
// ones its kernel can also run, so 32-bit programs get the same rules
// instead of being killed for using another calling convention.
func defaultArchitectures() []specs.Arch {
	switch runtime.GOARCH {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	default:
		return nil // the native architecture only
	}
}

// defaultAllowed is the allow-list of the default profile, by topic.
// Names of every architecture are mixed: a name no architecture of the
// filter has is skipped when the filter is built.
func defaultAllowed() []string {
	var all []string
	for _, group := range [][]string{
		// Reading and writing open files.
		{"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
			"preadv2", "pwritev2", "lseek", "_llseek", "sendfile", "sendfile64", "splice",
			"tee", "vmsplice", "copy_file_range", "readahead", "fadvise64", "fadvise64_64",
			"arm_fadvise64_64", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
			"sync_file_range2", "arm_sync_file_range", "flock", "fallocate",
			"ftruncate", "ftruncate64", "truncate", "truncate64"},
		// File descriptors.
		{"open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3",
			"fcntl", "fcntl64", "ioctl", "pipe", "pipe2", "memfd_create"},
		// Looking at files and directories.
		{"stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "newfstatat", "fstatat64",
			"statx", "statfs", "statfs64", "fstatfs", "fstatfs64", "access", "faccessat",
			"faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "readdir",
			"getcwd", "chdir", "fchdir", "chroot",
			"getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr"},
		// Changing files and directories.
		{"mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat",
			"symlink", "symlinkat", "unlink", "unlinkat", "mknod", "mknodat",
			"chmod", "fchmod", "fchmodat", "chown", "chown32", "fchown", "fchown32",
			"fchownat", "lchown", "lchown32", "umask", "utime", "utimes", "futimesat",
			"utimensat", "utimensat_time64",
			"setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr"},
		// Waiting for events.
		{"select", "_newselect", "pselect6", "pselect6_time64", "poll", "ppoll", "ppoll_time64",
			"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
			"epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4",
			"timerfd_create", "timerfd_settime", "timerfd_settime64", "timerfd_gettime",
			"timerfd_gettime64", "inotify_init", "inotify_init1", "inotify_add_watch",
			"inotify_rm_watch", "io_setup", "io_destroy", "io_submit", "io_cancel",
			"io_getevents", "io_pgetevents", "io_pgetevents_time64"},
		// Memory.
		{"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync",
			"mlock", "mlock2", "munlock", "mlockall", "munlockall", "remap_file_pages",
			"membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "get_mempolicy"},
		// Processes and threads (clone has its own rule).
		{"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
			"getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
			"set_tid_address", "set_robust_list", "get_robust_list", "rseq", "prctl",
			"arch_prctl", "set_thread_area", "get_thread_area", "set_tls", "cacheflush",
			"breakpoint", "futex", "futex_time64", "futex_waitv", "restart_syscall",
			"pidfd_open", "pidfd_send_signal", "capget", "capset", "seccomp",
			"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"},
		// Scheduling and resource limits.
		{"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
			"sched_setparam", "sched_getscheduler", "sched_setscheduler",
			"sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
			"sched_rr_get_interval_time64", "sched_getattr", "sched_setattr", "getpriority",
			"setpriority", "nice", "ioprio_get", "ioprio_set", "getrlimit", "ugetrlimit",
			"setrlimit", "prlimit64", "getrusage", "times", "getcpu"},
		// Signals.
		{"kill", "tkill", "tgkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
			"rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
			"rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaction", "sigprocmask", "sigreturn",
			"sigpending", "sigsuspend", "signal", "sigaltstack", "pause"},
		// Reading clocks and sleeping (setting the clock is refused).
		{"time", "gettimeofday", "clock_gettime", "clock_gettime64", "clock_getres",
			"clock_getres_time64", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64",
			"alarm", "getitimer", "setitimer", "timer_create", "timer_delete",
			"timer_settime", "timer_settime64", "timer_gettime", "timer_gettime64",
			"timer_getoverrun"},
		// User and group IDs.
		{"getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid",
			"getegid32", "getresuid", "getresuid32", "getresgid", "getresgid32",
			"getgroups", "getgroups32", "setuid", "setuid32", "setgid", "setgid32",
			"setreuid", "setreuid32", "setregid", "setregid32", "setresuid", "setresuid32",
			"setresgid", "setresgid32", "setfsuid", "setfsuid32", "setfsgid", "setfsgid32",
			"setgroups", "setgroups32"},
		// Networking.
		{"socket", "socketpair", "bind", "connect", "listen", "accept", "accept4",
			"getsockname", "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom",
			"send", "recv", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64",
			"shutdown", "socketcall"},
		// System V and POSIX IPC (per IPC namespace).
		{"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop",
			"semtimedop_time64", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl", "ipc",
			"mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive",
			"mq_timedreceive_time64", "mq_notify", "mq_getsetattr"},
		// About the system.
		{"uname", "sysinfo", "getrandom"},
	} {
		all = append(all, group...)
	}
	return all
}
