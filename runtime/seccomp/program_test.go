package seccomp

import (
	"encoding/binary"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

func TestDecodeProgram(t *testing.T) {
	// "ret ALLOW": opcode BPF_RET|BPF_K, operand SECCOMP_RET_ALLOW.
	retAllow := make([]byte, 8)
	binary.NativeEndian.PutUint16(retAllow[0:2], unix.BPF_RET|unix.BPF_K)
	retAllow[2], retAllow[3] = 1, 2
	binary.NativeEndian.PutUint32(retAllow[4:8], unix.SECCOMP_RET_ALLOW)

	tests := []struct {
		name    string
		raw     []byte
		want    []unix.SockFilter
		wantErr string
	}{
		{
			name: "one instruction",
			raw:  retAllow,
			want: []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, Jt: 1, Jf: 2, K: unix.SECCOMP_RET_ALLOW}},
		},
		{name: "empty", raw: nil, wantErr: "BPF program has 0 instructions; the kernel takes 1 to 4096"},
		{name: "torn instruction", raw: retAllow[:5], wantErr: "BPF program of 5 bytes is not whole instructions"},
		{name: "too long", raw: make([]byte, 8*4097), wantErr: "BPF program has 4097 instructions; the kernel takes 1 to 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeProgram(tt.raw)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestLoadNothing(t *testing.T) {
	skipped, err := Load(nil)
	require.NoError(t, err)
	require.Nil(t, skipped)
	// A Filter not made by Build is refused before any system call.
	require.EqualError(t, (&Filter{}).Load(true), "load seccomp filter: empty program (make filters with Build)")
}

func TestFilterBinaryRoundTrip(t *testing.T) {
	f, _, err := Build(spec.DefaultSeccomp())
	require.NoError(t, err)
	data, err := f.MarshalBinary()
	require.NoError(t, err)
	var g Filter
	require.NoError(t, g.UnmarshalBinary(data))
	require.Equal(t, f.flags, g.flags)
	require.Equal(t, f.program, g.program)
	require.Error(t, g.UnmarshalBinary(data[:5]))
	require.Error(t, g.UnmarshalBinary(data[:len(data)-3]))
}

// A profile with SCMP_ACT_NOTIFY rules makes a filter loaded with a
// listener (NEW_LISTENER, and TSYNC_ESRCH, without which the kernel
// refuses NEW_LISTENER with TSYNC); the flags survive the trip to the
// init, and each Load method refuses the other kind of filter before
// any system call.
func TestFilterWithListener(t *testing.T) {
	notify := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/agent.sock",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}}}
	f, _, err := Build(notify)
	require.NoError(t, err)
	require.True(t, f.HasListener())
	require.Equal(t, uintptr(unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_NEW_LISTENER|unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH), f.flags)
	data, err := f.MarshalBinary()
	require.NoError(t, err)
	var g Filter
	require.NoError(t, g.UnmarshalBinary(data))
	require.True(t, g.HasListener())
	require.EqualError(t, g.Load(true), "load seccomp filter: its SCMP_ACT_NOTIFY rules need a listener (use LoadListener)")

	plain, _, err := Build(spec.DefaultSeccomp())
	require.NoError(t, err)
	require.False(t, plain.HasListener())
	_, err = plain.LoadListener(true)
	require.EqualError(t, err, "load seccomp filter: it has no SCMP_ACT_NOTIFY rule, so no listener")
}
