package signals

import (
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		err  string
	}{
		{"9", unix.SIGKILL, ""}, {"KILL", unix.SIGKILL, ""}, {"SIGKILL", unix.SIGKILL, ""}, {"term", unix.SIGTERM, ""},
		{"SIGRTMIN", 34, ""}, {"RTMIN+3", 37, ""}, {"SIGRTMAX-1", 63, ""}, {"64", 64, ""},
		{"0", 0, "signal 0: out of range 1..64"}, {"65", 0, "signal 65: out of range"},
		{"SIGFOO", 0, `unknown signal "SIGFOO"`}, {"RTMAX+1", 0, `signal "RTMAX+1": out of range`}, {"", 0, "unknown signal"},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
