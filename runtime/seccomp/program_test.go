package seccomp

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
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
	f, _, err := Build(DefaultProfile())
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
