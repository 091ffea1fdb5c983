package seccomp

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

const busybox = "/bin/busybox"

// allowAllBut is a profile that allows everything except the given rules,
// so the child's Go runtime keeps working whatever the rules do.
func allowAllBut(rules ...specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: rules}
}

// dangerous are the probes of calls the default profile refuses.
var dangerous = []string{
	"unshare-mount-namespace", "mount", "clone-new-mount-namespace", "reboot", "kexec_load",
	"init_module", "delete_module", "swapon", "swapoff", "acct", "settimeofday", "clock_settime",
	"pivot_root", "umount2", "setns", "userfaultfd", "bpf", "perf_event_open", "keyctl",
	"add_key", "request_key", "ptrace", "open_by_handle_at",
}

// TestProbesWithoutFilter is the control for TestLoad: with no filter,
// no probe fails with the errno a filter would give, so those errnos in
// TestLoad come from the filter.
func TestProbesWithoutFilter(t *testing.T) {
	probes := append([]string{"clone3", "personality:40000", "getcwd"}, dangerous...)
	r, _ := runChildTest(t, childConfig{NoFilter: true, Dir: t.TempDir(), Probes: probes})
	require.Empty(t, r.Err)
	require.Equal(t, "0", r.Seccomp)
	for _, p := range dangerous {
		require.NotEqual(t, int(unix.EPERM), r.Errnos[p], p)
	}
	require.NotEqual(t, int(unix.ENOSYS), r.Errnos["clone3"])
	require.Equal(t, 0, r.Errnos["personality:40000"])
	t.Logf("errnos without a filter: %v", r.Errnos)
}

func TestLoad(t *testing.T) {
	withDefaultErrno := spec.DefaultSeccomp()
	withDefaultErrno.DefaultErrnoRet = uintPtr(uint(unix.EOPNOTSUPP))

	tests := []struct {
		name           string
		cfg            childConfig
		wantErr        string
		wantErrnos     map[string]unix.Errno
		wantSkipped    []string
		wantNoNewPrivs string
	}{
		{
			name: "an errno rule returns exactly its errnoRet",
			cfg: childConfig{
				Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uintPtr(123)}),
				Probes:  []string{"mkdir", "getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"mkdir": 123, "getcwd": 0},
			wantNoNewPrivs: "1",
		},
		{
			name: "an errno rule without errnoRet returns EPERM",
			cfg: childConfig{
				Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActErrno}),
				Probes:  []string{"getcwd", "mkdir"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": unix.EPERM, "mkdir": 0},
			wantNoNewPrivs: "1",
		},
		{
			name: "trace without a tracer fails with ENOSYS",
			cfg: childConfig{
				Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActTrace}),
				Probes:  []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": unix.ENOSYS},
			wantNoNewPrivs: "1",
		},
		{
			name: "log lets the call through",
			cfg: childConfig{
				Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActLog}),
				Probes:  []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": 0},
			wantNoNewPrivs: "1",
		},
		{
			name: "argument conditions",
			cfg: childConfig{
				Profile: allowAllBut(
					// Same argument twice: either value is refused.
					specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(unix.EACCES)),
						Args: []specs.LinuxSeccompArg{{Index: 0, Value: 3, Op: specs.OpEqualTo}, {Index: 0, Value: 5, Op: specs.OpEqualTo}}},
					// Different arguments: both must match, for either value of argument 1.
					specs.LinuxSyscall{Names: []string{"getpriority"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(unix.EACCES)),
						Args: []specs.LinuxSeccompArg{
							{Index: 0, Value: unix.PRIO_PROCESS, Op: specs.OpEqualTo},
							{Index: 1, Value: 4194305, Op: specs.OpEqualTo},
							{Index: 1, Value: 4194306, Op: specs.OpEqualTo},
						}},
					// Masked: refused when all of the group's permission bits are masked.
					specs.LinuxSyscall{Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: uintPtr(uint(unix.EACCES)),
						Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0o070, ValueTwo: 0o070, Op: specs.OpMaskedEqual}}},
				),
				Probes: []string{
					"personality:3", "personality:5", "personality:4",
					"getpriority:0:4194305", "getpriority:0:4194306", "getpriority:1:4194306", "getpriority:0:0",
					"umask:077", "umask:022",
				},
			},
			wantErrnos: map[string]unix.Errno{
				"personality:3": unix.EACCES, "personality:5": unix.EACCES, "personality:4": 0,
				// Above the kernel's PID_MAX_LIMIT, so never a process or group:
				// ESRCH when the rule does not match.
				"getpriority:0:4194305": unix.EACCES, "getpriority:0:4194306": unix.EACCES,
				"getpriority:1:4194306": unix.ESRCH, "getpriority:0:0": 0,
				"umask:077": unix.EACCES, "umask:022": 0,
			},
			wantNoNewPrivs: "1",
		},
		{
			name: "unknown names are skipped, the rest of the rule holds",
			cfg: childConfig{
				Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"no_such_syscall", "getcwd"}, Action: specs.ActErrno}),
				Probes:  []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": unix.EPERM},
			wantSkipped:    []string{"no_such_syscall"},
			wantNoNewPrivs: "1",
		},
		{
			name: "flags",
			cfg: childConfig{
				Profile: &specs.LinuxSeccomp{
					DefaultAction: specs.ActAllow,
					Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, "SECCOMP_FILTER_FLAG_TSYNC"},
					Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: uintPtr(123)}},
				},
				Probes: []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": 123},
			wantNoNewPrivs: "1",
		},
		{
			name: "the default profile refuses what reaches past the container",
			cfg: childConfig{
				Profile: spec.DefaultSeccomp(),
				Probes: append([]string{
					"getcwd", "mkdir", "new-thread", "clone3",
					"personality:ffffffff", "personality:0", "personality:40000", // the last is ADDR_NO_RANDOMIZE
				}, dangerous...),
			},
			wantErrnos: func() map[string]unix.Errno {
				m := map[string]unix.Errno{
					"getcwd": 0, "mkdir": 0, "new-thread": 0, "clone3": unix.ENOSYS,
					"personality:ffffffff": 0, "personality:0": 0, "personality:40000": unix.EPERM,
				}
				for _, p := range dangerous {
					m[p] = unix.EPERM
				}
				return m
			}(),
			wantSkipped:    []string{"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "recv", "send", "set_tls", "sync_file_range2"},
			wantNoNewPrivs: "1",
		},
		{
			name: "defaultErrnoRet changes the errno of refused calls",
			cfg: childConfig{
				Profile: withDefaultErrno,
				Probes:  []string{"unshare-mount-namespace", "clone3"},
			},
			wantErrnos:     map[string]unix.Errno{"unshare-mount-namespace": unix.EOPNOTSUPP, "clone3": unix.ENOSYS},
			wantSkipped:    []string{"arm_fadvise64_64", "arm_sync_file_range", "breakpoint", "cacheflush", "recv", "send", "set_tls", "sync_file_range2"},
			wantNoNewPrivs: "1",
		},
		{
			name: "without no_new_privs, with CAP_SYS_ADMIN",
			cfg: childConfig{
				Profile:    allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: uintPtr(123)}),
				Privileged: true,
				Probes:     []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": 123},
			wantNoNewPrivs: "0",
		},
		{
			name: "without no_new_privs and without CAP_SYS_ADMIN the kernel refuses",
			cfg: childConfig{
				Profile:      allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActErrno}),
				Privileged:   true,
				DropSysAdmin: true,
			},
			wantErr: "load seccomp filter: permission denied (without no_new_privs the thread needs CAP_SYS_ADMIN: load before dropping capabilities)",
		},
		{
			name: "with no_new_privs, CAP_SYS_ADMIN is not needed",
			cfg: childConfig{
				Profile:      allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActErrno}),
				DropSysAdmin: true,
				Probes:       []string{"getcwd"},
			},
			wantErrnos:     map[string]unix.Errno{"getcwd": unix.EPERM},
			wantNoNewPrivs: "1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Dir = t.TempDir()
			r, _ := runChildTest(t, tt.cfg)
			if tt.wantErr != "" {
				require.Equal(t, tt.wantErr, r.Err)
				return
			}
			require.Empty(t, r.Err)
			want := map[string]int{}
			for probe, errno := range tt.wantErrnos {
				want[probe] = int(errno)
			}
			require.Equal(t, want, r.Errnos)
			require.Equal(t, "2", r.Seccomp, "Seccomp: 2 means a filter is in force")
			require.Equal(t, tt.wantNoNewPrivs, r.NoNewPrivs)
			require.Equal(t, tt.wantSkipped, r.Skipped)
		})
	}
}

func TestKillProcessAction(t *testing.T) {
	cmd, _, stderr := startChild(t, childConfig{
		Profile: allowAllBut(specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActKillProcess}),
		Dir:     t.TempDir(),
		Probes:  []string{"getcwd"},
	})
	err := cmd.Wait()
	require.Error(t, err, "stderr: %s", stderr)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled(), "the child must die of a signal, got %v", err)
	require.Equal(t, unix.SIGSYS, ws.Signal())
}

// TestDefaultProfileRunsBusybox runs ordinary programs under the default
// profile: a shell that forks, ls, cat, ps, wget talking to this test.
func TestDefaultProfileRunsBusybox(t *testing.T) {
	_, err := os.Stat(busybox)
	require.NoError(t, err, "install busybox-static")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "hello-from-the-test")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	script := `set -e
echo ok
ls / >/dev/null
cat /proc/self/status >/dev/null
ps >/dev/null
wget -q -O - http://` + ln.Addr().String() + `/
echo
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
if unshare -m true 2>/dev/null; then echo unshare-allowed; fi
(sleep 0) & wait
echo done`
	r, out := runChildTest(t, childConfig{
		Profile: spec.DefaultSeccomp(),
		Dir:     t.TempDir(),
		Exec:    []string{busybox, "sh", "-c", script},
	})
	require.Empty(t, r.Err)
	require.Equal(t, "ok\nhello-from-the-test\nNoNewPrivs:\t1\nSeccomp:\t2\ndone\n", out)
}
