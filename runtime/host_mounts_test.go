package runtime

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
	require.NoError(t, unmountUnder(dir))
	points, err = mountPointsUnder(dir)
	require.NoError(t, err)
	require.Empty(t, points)
	points, err = mountPointsUnder(beside)
	require.NoError(t, err)
	require.Equal(t, []string{beside}, points)
}
