package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestRootDir resolves and creates paths inside a root as if it were "/":
// ".." stops at the root, symlinks (absolute ones too) stay inside it,
// dangling ones get their target made, and nothing appears outside.
func TestRootDir(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "a/b"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/passwd"), nil, 0o644))
	require.NoError(t, os.Symlink("/etc", filepath.Join(root, "abs")))
	require.NoError(t, os.Symlink("../../..", filepath.Join(root, "a/b/up")))
	require.NoError(t, os.Symlink("b", filepath.Join(root, "a/rel")))
	require.NoError(t, os.Symlink("/../../.."+outside, filepath.Join(root, "escape")))
	require.NoError(t, os.Symlink("/made/here", filepath.Join(root, "dangling")))
	require.NoError(t, os.Symlink("loop", filepath.Join(root, "loop")))
	r, err := openRoot(root)
	require.NoError(t, err)
	defer r.close()

	where := func(fd int) string {
		t.Helper()
		defer unix.Close(fd)
		p, err := os.Readlink(fdPath(fd))
		require.NoError(t, err)
		return p
	}
	tests := []struct {
		in, want string
		file     bool
	}{
		{in: "/", want: root},
		{in: "/a/b", want: filepath.Join(root, "a/b")},
		{in: "../../etc/passwd", want: filepath.Join(root, "etc/passwd"), file: true},
		{in: "/abs/passwd", want: filepath.Join(root, "etc/passwd"), file: true},
		{in: "/a/b/up/x", want: filepath.Join(root, "x")},
		{in: "/a/rel/c", want: filepath.Join(root, "a/b/c")},
		{in: "/new/dir", want: filepath.Join(root, "new/dir")},
		{in: "/new/file", want: filepath.Join(root, "new/file"), file: true},
		{in: "/escape/d/e", want: filepath.Join(root, outside, "d/e")},
		{in: "/escape/f", want: filepath.Join(root, outside, "f"), file: true},
		{in: "/dangling/x", want: filepath.Join(root, "made/here/x")},
	}
	for _, tc := range tests {
		fd, err := r.create(tc.in, tc.file)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, where(fd), tc.in)
	}
	fi, err := os.Stat(filepath.Join(root, "new/file"))
	require.NoError(t, err)
	require.True(t, fi.Mode().IsRegular())
	entries, err := os.ReadDir(outside)
	require.NoError(t, err)
	require.Empty(t, entries, "created outside the root")

	_, err = r.mkdirAll("/loop/x")
	require.ErrorIs(t, err, unix.ELOOP)
	_, err = r.open("/missing", unix.O_PATH)
	require.ErrorIs(t, err, unix.ENOENT)
}
