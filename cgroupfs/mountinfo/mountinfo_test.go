package mountinfo

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/plain/path", "/plain/path"},
		{`/with\040space`, "/with space"},
		{`/tab\011and\134backslash`, "/tab\tand\\backslash"},
		{`/short\04`, `/short\04`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, unescape(tt.in), tt.in)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Mount
		err        string
	}{
		{name: "optional tags and an escaped space",
			text: "27 1 254:0 / / rw,relatime shared:1 master:2 - ext4 /dev/vda rw,discard\n" +
				"40 31 0:37 /sub /sys/fs/cgroup/my\\040dir rw - cgroup cgroup rw,name=systemd\n",
			want: []Mount{
				{Root: "/", Point: "/", FSType: "ext4", Options: []string{"rw", "discard"}},
				{Root: "/sub", Point: "/sys/fs/cgroup/my dir", FSType: "cgroup", Options: []string{"rw", "name=systemd"}},
			}},
		{name: "no separator", text: "27 1 254:0 / / rw ext4\n", err: `no " - " separator`},
		{name: "too few fields", text: "27 1 / / - ext4\n", err: "too few fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.text))
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestUnder(t *testing.T) {
	require.True(t, Under("/a/b", "/a/b"))
	require.True(t, Under("/a/b/c", "/a/b"))
	require.False(t, Under("/a/bc", "/a/b"))
}
