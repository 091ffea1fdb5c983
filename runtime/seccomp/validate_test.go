package seccomp

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime/spec"
)

func uintPtr(v uint) *uint { return &v }

func TestValidate(t *testing.T) {
	allowGetcwd := specs.LinuxSyscall{Names: []string{"getcwd"}, Action: specs.ActAllow}
	tests := []struct {
		name    string
		profile *specs.LinuxSeccomp
		wantIs  error
		wantErr string // "" means valid
	}{
		{name: "no profile", profile: nil},
		{name: "default profile", profile: spec.DefaultSeccomp()},
		{
			name: "every supported action, flag and operator",
			profile: &specs.LinuxSeccomp{
				DefaultAction:   specs.ActErrno,
				DefaultErrnoRet: uintPtr(38),
				Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64, specs.ArchRISCV64},
				Flags:           []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"},
				ListenerPath:    "/run/agent.sock",
				Syscalls: []specs.LinuxSyscall{
					{Names: []string{"read", "_llseek", "arm_fadvise64_64"}, Action: specs.ActAllow},
					{Names: []string{"a"}, Action: specs.ActErrno, ErrnoRet: uintPtr(0)},
					{Names: []string{"b"}, Action: specs.ActTrace, ErrnoRet: uintPtr(4095)},
					{Names: []string{"c"}, Action: specs.ActKill},
					{Names: []string{"d"}, Action: specs.ActKillThread},
					{Names: []string{"e"}, Action: specs.ActKillProcess},
					{Names: []string{"f"}, Action: specs.ActTrap},
					{Names: []string{"h"}, Action: specs.ActNotify},
					{Names: []string{"g"}, Action: specs.ActLog, Args: []specs.LinuxSeccompArg{
						{Index: 0, Op: specs.OpNotEqual}, {Index: 1, Op: specs.OpLessThan},
						{Index: 2, Op: specs.OpLessEqual}, {Index: 3, Op: specs.OpEqualTo},
						{Index: 4, Op: specs.OpGreaterEqual}, {Index: 5, Op: specs.OpGreaterThan},
						{Index: 5, Op: specs.OpMaskedEqual, Value: 1, ValueTwo: 1},
					}},
				},
			},
		},
		{
			name:    "missing default action",
			profile: &specs.LinuxSeccomp{},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.defaultAction: missing",
		},
		{
			name:    "unknown default action",
			profile: &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"},
			wantIs:  ErrInvalid,
			wantErr: `linux.seccomp.defaultAction: unknown action "SCMP_ACT_FOO"`,
		},
		{
			name:    "default errno with an action that has none",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uintPtr(1)},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not return an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
		},
		{
			name:    "errno out of range",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uintPtr(4096)},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.defaultErrnoRet: 4096 is above the largest errno, 4095",
		},
		{
			name:    "unknown architecture",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86, "SCMP_ARCH_Z80"}},
			wantIs:  ErrInvalid,
			wantErr: `linux.seccomp.architectures[1]: unknown architecture "SCMP_ARCH_Z80"`,
		},
		{
			name:    "unknown flag",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"}},
			wantIs:  ErrInvalid,
			wantErr: `linux.seccomp.flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO"`,
		},
		{
			name:    "a real flag cmrun does not support",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}},
			wantIs:  ErrNotSupported,
			wantErr: `linux.seccomp.flags[0]: flag "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" is not supported`,
		},
		{
			name:    "notify as default action",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/run/agent.sock"},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action",
		},
		{
			name: "notify without a listener path",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "x", Syscalls: []specs.LinuxSyscall{
				allowGetcwd, {Names: []string{"mkdir"}, Action: specs.ActNotify}, {Names: []string{"uname"}, Action: specs.ActNotify},
			}},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.listenerPath: missing: syscalls[1] uses SCMP_ACT_NOTIFY, which needs a seccomp agent listening there",
		},
		{
			name: "notify on write",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock", Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir", "write"}, Action: specs.ActNotify},
			}},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall",
		},
		{
			name: "unknown syscall action",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				allowGetcwd, allowGetcwd, allowGetcwd, {Names: []string{"getcwd"}, Action: "SCMP_ACT_FOO"},
			}},
			wantIs:  ErrInvalid,
			wantErr: `linux.seccomp.syscalls[3].action: unknown action "SCMP_ACT_FOO"`,
		},
		{
			name: "syscall errno with an action that has none",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"getcwd"}, Action: specs.ActAllow, ErrnoRet: uintPtr(1)},
			}},
			wantIs:  ErrInvalid,
			wantErr: "linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_ALLOW does not return an errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)",
		},
		{
			name: "garbage syscall names",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "", "get cwd", "/bin/sh", "open-at"}, Action: specs.ActAllow},
				{Action: specs.ActAllow},
			}},
			wantIs: ErrInvalid,
			wantErr: `linux.seccomp.syscalls[0].names[1]: "" is not a syscall name` + "\n" +
				`linux.seccomp.syscalls[0].names[2]: "get cwd" is not a syscall name` + "\n" +
				`linux.seccomp.syscalls[0].names[3]: "/bin/sh" is not a syscall name` + "\n" +
				`linux.seccomp.syscalls[0].names[4]: "open-at" is not a syscall name` + "\n" +
				`linux.seccomp.syscalls[1].names: empty`,
		},
		{
			name: "bad arguments",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"clone"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{
					{Index: 0, Op: specs.OpEqualTo}, {Index: 6, Op: specs.OpEqualTo}, {Index: 1, Op: "SCMP_CMP_FOO"}, {Index: 2},
				}},
			}},
			wantIs: ErrInvalid,
			wantErr: "linux.seccomp.syscalls[0].args[1].index: 6 is out of range: syscalls have arguments 0 to 5\n" +
				`linux.seccomp.syscalls[0].args[2].op: unknown operator "SCMP_CMP_FOO"` + "\n" +
				`linux.seccomp.syscalls[0].args[3].op: unknown operator ""`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.profile)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.wantIs)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestBuildRejectsWhatValidateRejects(t *testing.T) {
	// Build must never load a profile Validate refuses.
	f, _, err := Build(&specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_FOO"})
	require.ErrorIs(t, err, ErrInvalid)
	require.Nil(t, f)
	_, _, err = Build(nil)
	require.ErrorIs(t, err, ErrInvalid)
}

func TestBuildSkipsUnknownNames(t *testing.T) {
	tests := []struct {
		name        string
		profile     *specs.LinuxSeccomp
		wantSkipped []string
	}{
		{
			name: "names no architecture has are skipped, once each, sorted",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"read", "no_such_syscall", "arm_fadvise64_64"}, Action: specs.ActAllow},
				{Names: []string{"no_such_syscall", "getcwd"}, Action: specs.ActAllow},
			}},
			wantSkipped: []string{"arm_fadvise64_64", "no_such_syscall"},
		},
		{
			name: "a name only a listed 32-bit architecture has is kept",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Architectures: spec.DefaultSeccomp().Architectures,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"socketcall", "_llseek", "read"}, Action: specs.ActAllow}}},
			wantSkipped: nil,
		},
		{
			name: "rules repeating the default action are dropped without error",
			profile: &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mount"}, Action: specs.ActErrno},
				{Names: []string{"mount"}, Action: specs.ActErrno, ErrnoRet: uintPtr(1)}, // EPERM too
			}},
			wantSkipped: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, skipped, err := Build(tt.profile)
			require.NoError(t, err)
			require.NotZero(t, f.Instructions())
			require.Equal(t, tt.wantSkipped, skipped)
		})
	}
}
