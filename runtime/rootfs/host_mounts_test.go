package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestUnmountUnder mounts a small tree below a directory with a space in
// its name and checks every mount goes, and nothing beside it.
func TestUnmountUnder(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir := filepath.Join(t.TempDir(), "root fs")
	beside := dir + "-beside"
	for _, d := range []string{dir, beside} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	require.NoError(t, unix.Mount("tmpfs", dir, "tmpfs", 0, ""))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "proc"), 0o755))
	require.NoError(t, unix.Mount("proc", filepath.Join(dir, "proc"), "proc", 0, ""))
	require.NoError(t, unix.Mount("tmpfs", beside, "tmpfs", 0, ""))
	t.Cleanup(func() { unix.Unmount(beside, unix.MNT_DETACH) })

	points, err := mountPointsUnder(dir)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{dir, filepath.Join(dir, "proc")}, points)
	require.NoError(t, UnmountUnder(dir))
	points, err = mountPointsUnder(dir)
	require.NoError(t, err)
	require.Empty(t, points)
	points, err = mountPointsUnder(beside)
	require.NoError(t, err)
	require.Equal(t, []string{beside}, points)
}

// TestUnmountBelowNoSymlink: a mount point whose path now goes through a
// symlink (a directory swapped since the mount table was read) is not
// followed out of the directory: the host's mount there stays.
func TestUnmountBelowNoSymlink(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir, outside := t.TempDir(), t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(outside, "m"), 0o755))
	require.NoError(t, unix.Mount("tmpfs", filepath.Join(outside, "m"), "tmpfs", 0, ""))
	t.Cleanup(func() { unix.Unmount(filepath.Join(outside, "m"), unix.MNT_DETACH) })
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "a")))

	require.ErrorIs(t, unmountBelow(dir, filepath.Join(dir, "a/m")), unix.ELOOP)
	points, err := mountPointsUnder(outside)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(outside, "m")}, points)
}
