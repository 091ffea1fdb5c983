package seccomp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/tests/childproc"
)

// A filter cannot be unloaded, so the real tests run in a child (package
// childproc) holding a childConfig in childEnv. The child loads the
// filter, runs the probes (system calls whose errno tells what the filter
// did) and reports a childReport.
const childEnv = "CM_SECCOMP_TEST_CHILD"

type childConfig struct {
	Profile      *specs.LinuxSeccomp
	NoFilter     bool   // run the probes without loading anything
	Privileged   bool   // Build, then Filter.Load(false): no no_new_privs, needs CAP_SYS_ADMIN
	Timed        bool   // Build, then Filter.Load(true), timing both (Load(profile) otherwise)
	DropSysAdmin bool   // remove CAP_SYS_ADMIN from the effective set first
	Dir          string // a scratch directory for the file probes
	Probes       []string
	Exec         []string
}

type childReport struct {
	Err        string
	Skipped    []string
	Errnos     map[string]int // probe → errno, 0 for success
	NoNewPrivs string         // from /proc/thread-self/status
	Seccomp    string
	BuildNs    int64
	LoadNs     int64
}

func TestMain(m *testing.M) {
	childproc.Serve(childEnv, func(cfg *childConfig) (childReport, []string) {
		r := childSteps(cfg)
		if r.Err != "" {
			return r, nil
		}
		return r, cfg.Exec
	})
	os.Exit(m.Run())
}

func childSteps(cfg *childConfig) (r childReport) {
	fail := func(err error) childReport {
		r.Err = err.Error()
		return r
	}
	// A private mount namespace, so a probe that mounts cannot touch the
	// host even if the filter under test fails to stop it.
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fail(err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fail(err)
	}
	if cfg.DropSysAdmin {
		if err := dropEffective(unix.CAP_SYS_ADMIN); err != nil {
			return fail(err)
		}
	}

	if !cfg.NoFilter {
		if err := buildAndLoad(cfg, &r); err != nil {
			return fail(err)
		}
	}
	status, err := os.ReadFile("/proc/thread-self/status")

	if err != nil {
		return fail(err)
	}
	r.NoNewPrivs = statusField(status, "NoNewPrivs")
	r.Seccomp = statusField(status, "Seccomp")

	r.Errnos = map[string]int{}
	for _, name := range cfg.Probes {
		err := runProbe(name, cfg.Dir)
		var errno unix.Errno
		switch {
		case err == nil:
			r.Errnos[name] = 0
		case errors.As(err, &errno):
			r.Errnos[name] = int(errno)
		default:
			return fail(fmt.Errorf("probe %s: %w", name, err))
		}
	}
	return r
}

// buildAndLoad loads cfg.Profile the way the config asks.
func buildAndLoad(cfg *childConfig, r *childReport) error {
	if !cfg.Privileged && !cfg.Timed {
		skipped, err := Load(cfg.Profile)
		r.Skipped = skipped
		return err
	}
	start := time.Now()
	f, skipped, err := Build(cfg.Profile)
	if err != nil {
		return err
	}
	r.BuildNs = time.Since(start).Nanoseconds()
	r.Skipped = skipped
	start = time.Now()
	if err := f.Load(!cfg.Privileged); err != nil {
		return err
	}
	r.LoadNs = time.Since(start).Nanoseconds()
	return nil
}

// dropEffective removes one capability from the thread's effective set.
func dropEffective(c uint) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << (c % 32)
	return unix.Capset(&hdr, &data[0])
}

func statusField(status []byte, key string) string {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// syscallErr turns a raw system call result into an error.
func syscallErr(_, _ uintptr, errno unix.Errno) error {
	if errno != 0 {
		return errno
	}
	return nil
}

// str passes a Go string to a raw system call.
func str(s string) uintptr {
	p, err := unix.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	return uintptr(unsafe.Pointer(p))
}

// probes are harmless system calls. Without a filter each one succeeds
// or fails with an errno other than EPERM, so EPERM proves the filter
// refused it. Arguments are chosen so nothing changes on the host even
// when the call goes through.
var probes = map[string]func(dir string) error{
	"getcwd": func(string) error { _, err := unix.Getcwd(make([]byte, 4096)); return err },
	"mkdir":  func(dir string) error { return unix.Mkdir(filepath.Join(dir, "probe"), 0o755) },
	"unshare-mount-namespace": func(string) error {
		return unix.Unshare(unix.CLONE_NEWNS)
	},
	"mount": func(dir string) error { return unix.Mount("cm-test", dir, "tmpfs", 0, "") },
	// CLONE_NEWNS with CLONE_FS is EINVAL for the kernel: no process is
	// ever created, yet a filter looking at the flags refuses it first.
	"clone-new-mount-namespace": func(string) error {
		return syscallErr(unix.RawSyscall(unix.SYS_CLONE, unix.CLONE_NEWNS|unix.CLONE_FS, 0, 0))
	},
	// clone3 with no arguments is EINVAL for the kernel.
	"clone3":     func(string) error { return syscallErr(unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)) },
	"new-thread": newThread,
	"reboot":     func(string) error { return syscallErr(unix.Syscall6(unix.SYS_REBOOT, 0, 0, 0, 0, 0, 0)) },
	"kexec_load": func(string) error {
		return syscallErr(unix.Syscall6(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0xffffffff, 0, 0))
	},
	"init_module": func(string) error { return syscallErr(unix.Syscall(unix.SYS_INIT_MODULE, 0, 0, str(""))) },
	"delete_module": func(string) error {
		return syscallErr(unix.Syscall(unix.SYS_DELETE_MODULE, str("cm_no_such_module"), 0, 0))
	},
	"swapon":        func(string) error { return syscallErr(unix.Syscall(unix.SYS_SWAPON, str("/cm-no-such-file"), 0, 0)) },
	"swapoff":       func(string) error { return syscallErr(unix.Syscall(unix.SYS_SWAPOFF, str("/cm-no-such-file"), 0, 0)) },
	"acct":          func(string) error { return syscallErr(unix.Syscall(unix.SYS_ACCT, str("/cm-no-such-file"), 0, 0)) },
	"settimeofday":  func(string) error { return syscallErr(unix.Syscall(unix.SYS_SETTIMEOFDAY, 0, 0, 0)) },
	"clock_settime": func(string) error { return syscallErr(unix.Syscall(unix.SYS_CLOCK_SETTIME, 12345, 0, 0)) },
	"pivot_root": func(string) error {
		return syscallErr(unix.Syscall(unix.SYS_PIVOT_ROOT, str("/cm-no-such-dir"), str("/cm-no-such-dir"), 0))
	},
	"umount2":         func(string) error { return syscallErr(unix.Syscall(unix.SYS_UMOUNT2, str("/cm-no-such-dir"), 0, 0)) },
	"setns":           func(string) error { return syscallErr(unix.Syscall(unix.SYS_SETNS, ^uintptr(0), 0, 0)) },
	"userfaultfd":     func(string) error { return syscallErr(unix.Syscall(unix.SYS_USERFAULTFD, 0xffff, 0, 0)) },
	"bpf":             func(string) error { return syscallErr(unix.Syscall(unix.SYS_BPF, 9999, 0, 0)) },
	"perf_event_open": func(string) error { return syscallErr(unix.Syscall6(unix.SYS_PERF_EVENT_OPEN, 0, 0, 0, 0, 0, 0)) },
	"keyctl":          func(string) error { return syscallErr(unix.Syscall(unix.SYS_KEYCTL, 9999, 0, 0)) },
	"add_key":         func(string) error { return syscallErr(unix.Syscall6(unix.SYS_ADD_KEY, 0, 0, 0, 0, 0, 0)) },
	"request_key":     func(string) error { return syscallErr(unix.Syscall6(unix.SYS_REQUEST_KEY, 0, 0, 0, 0, 0, 0)) },
	"ptrace":          func(string) error { return syscallErr(unix.Syscall6(unix.SYS_PTRACE, 0xffff, 0, 0, 0, 0, 0)) },
	"open_by_handle_at": func(string) error {
		return syscallErr(unix.Syscall(unix.SYS_OPEN_BY_HANDLE_AT, ^uintptr(0), 0, 0))
	},
}

// newThread makes the Go runtime start a new OS thread (clone with
// CLONE_THREAD and friends) and checks it is a different thread.
func newThread(string) error {
	tids := make(chan int)
	go func() {
		runtime.LockOSThread() // this goroutine gets a thread of its own
		tids <- unix.Gettid()
	}()
	if <-tids == unix.Gettid() {
		return errors.New("the goroutine ran on the locked main thread")
	}
	return nil
}

// runProbe also knows the parameterised probes "personality:HEX",
// "getpriority:WHICH:WHO" and "umask:OCTAL".
func runProbe(name, dir string) error {
	if p, ok := probes[name]; ok {
		return p(dir)
	}
	kind, params, _ := strings.Cut(name, ":")
	switch kind {
	case "personality":
		v, err := strconv.ParseUint(params, 16, 32)
		if err != nil {
			return err
		}
		return syscallErr(unix.Syscall(unix.SYS_PERSONALITY, uintptr(v), 0, 0))
	case "getpriority":
		which, who, _ := strings.Cut(params, ":")
		w, err1 := strconv.Atoi(which)
		p, err2 := strconv.Atoi(who)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		return syscallErr(unix.Syscall(unix.SYS_GETPRIORITY, uintptr(w), uintptr(p), 0))
	case "umask":
		v, err := strconv.ParseUint(params, 8, 32)
		if err != nil {
			return err
		}
		return syscallErr(unix.Syscall(unix.SYS_UMASK, uintptr(v), 0, 0))
	}
	return fmt.Errorf("unknown probe %q", name)
}

// startChild starts the child with cfg, its stdout and stderr captured.
func startChild(t testing.TB, cfg childConfig) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	return childproc.Start(t, childEnv, cfg)
}

// runChildTest runs the child with cfg and returns its report and the
// output of the program it exec'd, if any.
func runChildTest(t testing.TB, cfg childConfig) (childReport, string) {
	t.Helper()
	return childproc.Run[childReport](t, childEnv, cfg)
}
