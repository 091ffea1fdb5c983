package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/shim/proto"
)

func TestLogFileRotation(t *testing.T) {
	tests := []struct {
		name    string
		max     int64
		writes  []string
		wantCur string
		wantOld string // "" means no rotated file
	}{
		{name: "no cap", max: 0, writes: []string{"aaaa", "bbbb"}, wantCur: "aaaabbbb"},
		{name: "below the cap", max: 10, writes: []string{"aaaa", "bbbb"}, wantCur: "aaaabbbb"},
		{name: "exactly the cap does not rotate yet", max: 8, writes: []string{"aaaa", "bbbb"}, wantCur: "aaaabbbb"},
		{name: "a write across the cap is split", max: 6, writes: []string{"aaaa", "bbbb"}, wantOld: "aaaabb", wantCur: "bb"},
		{name: "one old file is kept", max: 4, writes: []string{"aaaa", "bbbb", "cc"}, wantOld: "bbbb", wantCur: "cc"},
		{name: "a huge write keeps only its end", max: 3, writes: []string{"abcdefgh"}, wantOld: "def", wantCur: "gh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), proto.LogFile)
			l, err := openLogFile(path, tc.max)
			require.NoError(t, err)
			for _, w := range tc.writes {
				n, err := l.Write([]byte(w))
				require.NoError(t, err)
				require.Equal(t, len(w), n)
			}
			require.NoError(t, l.Close())
			cur, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, tc.wantCur, string(cur))
			old, err := os.ReadFile(path + ".1")
			if tc.wantOld == "" {
				require.True(t, os.IsNotExist(err), "unexpected rotation")
			} else {
				require.NoError(t, err)
				require.Equal(t, tc.wantOld, string(old))
			}
		})
	}
}

// TestLogFileReopen: a shim that opens an existing log keeps counting
// from its size, so the cap holds across restarts.
func TestLogFileReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), proto.LogFile)
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("x", 5)), 0o600))
	l, err := openLogFile(path, 6)
	require.NoError(t, err)
	_, err = l.Write([]byte("yy"))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	old, err := os.ReadFile(path + ".1")
	require.NoError(t, err)
	require.Equal(t, "xxxxxy", string(old))
	cur, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "y", string(cur))
}
