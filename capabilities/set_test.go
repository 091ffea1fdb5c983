package capabilities

import (
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name      string
		caps      *specs.LinuxCapabilities
		lastCap   capability.Cap // 0: the running kernel's
		want      *Set
		wantErrIs error
		wantErr   string
	}{
		{
			name: "nil keeps the thread's capabilities",
			caps: nil,
			want: &Set{keep: true},
		},
		{
			name: "empty object drops everything",
			caps: &specs.LinuxCapabilities{},
			want: &Set{},
		},
		{
			name: "known names",
			caps: &specs.LinuxCapabilities{
				Bounding:    []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
				Effective:   []string{"CAP_CHOWN"},
				Permitted:   []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
				Inheritable: []string{"CAP_NET_BIND_SERVICE"},
				Ambient:     []string{"CAP_NET_BIND_SERVICE"},
			},
			want: &Set{bounding: 0x401, effective: 0x1, permitted: 0x401, inheritable: 0x400, ambient: 0x400},
		},
		{
			name: "every unknown name is reported",
			caps: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_CHOWN", "CAP_FOO"},
				Effective: []string{"NET_RAW"},
				Ambient:   []string{""},
			},
			wantErrIs: ErrUnknownCapability,
			wantErr: `process.capabilities.bounding: unknown capability "CAP_FOO"` + "\n" +
				`process.capabilities.effective: unknown capability "NET_RAW"` + "\n" +
				`process.capabilities.ambient: unknown capability ""`,
		},
		{
			name: "names newer than the kernel are missing, not errors",
			caps: &specs.LinuxCapabilities{
				Bounding:  []string{"CAP_CHOWN", "CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_PERFMON"},
				Effective: []string{"CAP_CHOWN", "CAP_BPF"},
				Permitted: []string{"CAP_CHOWN", "CAP_BPF"},
			},
			lastCap: capability.CAP_AUDIT_READ, // a 5.4 kernel: no CAP_PERFMON (38) and later
			want: &Set{
				Missing:  []string{"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"},
				bounding: 0x1, effective: 0x1, permitted: 0x1,
			},
		},
		{
			name: "effective outside permitted",
			caps: &specs.LinuxCapabilities{
				Effective: []string{"CAP_CHOWN", "CAP_KILL"},
				Permitted: []string{"CAP_CHOWN"},
			},
			wantErrIs: ErrInconsistent,
			wantErr:   "process.capabilities.effective: inconsistent capability sets: CAP_KILL not in permitted (capset refuses it)",
		},
		{
			// runc's default config.json does exactly this: a warning, not an error.
			name: "ambient outside inheritable",
			caps: &specs.LinuxCapabilities{
				Permitted:   []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
				Inheritable: []string{"CAP_KILL"},
				Ambient:     []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			},
			want: &Set{permitted: 0x420, inheritable: 0x20, ambient: 0x20, Warnings: []string{
				"process.capabilities.ambient: CAP_NET_BIND_SERVICE not in both permitted and inheritable; the kernel cannot raise them, left out"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.lastCap != 0 {
				saved := lastCap
				lastCap = func() (capability.Cap, error) { return tt.lastCap, nil }
				t.Cleanup(func() { lastCap = saved })
			}
			got, err := Parse(tt.caps)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, tt.wantErrIs)
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
