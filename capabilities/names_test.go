package capabilities

import (
	"testing"

	"github.com/moby/sys/capability"
	"github.com/stretchr/testify/require"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name    string
		names   []string
		want    uint64
		wantErr string
	}{
		{name: "none", names: nil, want: 0},
		{name: "chown is bit 0", names: []string{"CAP_CHOWN"}, want: 0x1},
		{name: "chown and net_bind_service", names: []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}, want: 0x401},
		{name: "duplicates count once", names: []string{"CAP_KILL", "CAP_KILL"}, want: 0x20},
		{name: "sys_resource is bit 24", names: []string{"CAP_SYS_RESOURCE"}, want: 0x1000000},
		{name: "above 31 uses the high word", names: []string{"CAP_CHECKPOINT_RESTORE"}, want: 1 << 40},
		{name: "unknown", names: []string{"CAP_CHOWN", "CAP_FOO"}, wantErr: `unknown capability "CAP_FOO"`},
		{name: "lower case is not an OCI name", names: []string{"cap_chown"}, wantErr: `unknown capability "cap_chown"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Mask(tt.names)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUnknownCapability)
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestMaskOfEveryKnownName(t *testing.T) {
	// Every capability the library knows must round-trip through its OCI
	// name, or Parse would call a real capability unknown.
	for _, c := range capability.ListKnown() {
		m, err := Mask([]string{nameOf(c)})
		require.NoError(t, err)
		require.Equal(t, uint64(1)<<uint(c), m, nameOf(c))
		require.Equal(t, []string{nameOf(c)}, namesOf(m))
	}
}
