package runtime

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecureJoin(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a/b"), 0o755))
	require.NoError(t, os.Symlink("/etc", filepath.Join(root, "abs")))
	require.NoError(t, os.Symlink("../../..", filepath.Join(root, "a/b/up")))
	require.NoError(t, os.Symlink("b", filepath.Join(root, "a/rel")))
	require.NoError(t, os.Symlink("loop", filepath.Join(root, "loop")))

	tests := []struct{ in, want string }{
		{"/", root},
		{"/a/b", filepath.Join(root, "a/b")},
		{"../../etc/passwd", filepath.Join(root, "etc/passwd")},
		{"/abs/passwd", filepath.Join(root, "etc/passwd")},
		{"/a/b/up/x", filepath.Join(root, "x")},
		{"/a/rel/c", filepath.Join(root, "a/b/c")},
		{"/new/dir", filepath.Join(root, "new/dir")},
	}
	for _, tc := range tests {
		got, err := secureJoin(root, tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	_, err := secureJoin(root, "/loop/x")
	require.ErrorContains(t, err, "too many levels of symbolic links")
}
