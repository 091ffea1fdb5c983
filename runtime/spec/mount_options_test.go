package spec

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParseMountOptions(t *testing.T) {
	tests := []struct {
		opts  []string
		flags uintptr
		prop  []uintptr
		data  []string
		err   string
	}{
		{opts: []string{"nosuid", "noexec", "nodev", "ro"}, flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RDONLY},
		{opts: []string{"ro", "rw"}, flags: 0},
		{opts: []string{"rbind", "rprivate"}, flags: unix.MS_BIND | unix.MS_REC, prop: []uintptr{unix.MS_PRIVATE | unix.MS_REC}},
		{opts: []string{"mode=755", "size=65536k", "strictatime"}, flags: unix.MS_STRICTATIME, data: []string{"mode=755", "size=65536k"}},
		{opts: []string{"tmpcopyup"}, flags: 0},
		{opts: []string{"ridmap"}, err: `"ridmap" (idmapped mounts) is not supported`},
	}
	for _, tc := range tests {
		got, err := ParseMountOptions(tc.opts)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.flags, got.Flags, "%v", tc.opts)
		require.Equal(t, tc.prop, got.Propagation, "%v", tc.opts)
		require.Equal(t, tc.data, got.Data, "%v", tc.opts)
	}
}
