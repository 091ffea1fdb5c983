package daemon

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

func TestCheckHostRootfs(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(own, 0o755))
	toLib := filepath.Join(dir, "to-lib")
	require.NoError(t, os.Symlink("/usr/lib", toLib))
	for _, tc := range []struct{ path, want string }{
		{own, ""},
		{"/", "rootfs: / is the host's root directory; give the container a root filesystem of its own"},
		{"/usr/../etc", "rootfs: /usr/../etc is a host system directory; give the container a root filesystem of its own"},
		{toLib, "rootfs: " + toLib + " resolves to /usr/lib, a host system directory; give the container a root filesystem of its own"},
	} {
		err := checkHostRootfs("rootfs", "", tc.path)
		if tc.want == "" {
			require.NoError(t, err, tc.path)
		} else {
			require.EqualError(t, err, tc.want)
		}
	}
	require.True(t, isHostSystemDir("/lib64"))
	require.True(t, isHostSystemDir("/usr/lib32"))
	require.False(t, isHostSystemDir("/srv/rootfs"))
	require.False(t, isHostSystemDir("/library"))
}

// TestMountpointsRemoved: only the missing mount points are recorded, and
// only empty ones are removed again.
func TestMountpointsRemoved(t *testing.T) {
	rootfs := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(rootfs, "proc"), 0o755))
	require.NoError(t, os.Symlink("proc", filepath.Join(rootfs, "linked")))
	mounts := []specs.Mount{
		{Destination: "/proc"}, {Destination: "/dev"}, {Destination: "/dev/pts"},
		{Destination: "/sys/fs/cgroup"}, {Destination: "/run/x"}, {Destination: "/linked/y"},
	}
	made := missingMountpoints(rootfs, mounts)
	require.Equal(t, []string{"dev", "run", "sys"}, made)

	// As the runtime leaves them: dev and sys empty, run with a file a
	// container wrote into it.
	for _, d := range []string{"dev", "sys", "run/x"} {
		require.NoError(t, os.MkdirAll(filepath.Join(rootfs, d), 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(rootfs, "run", "kept"), nil, 0o644))
	removeMountpoints(madeMountpoints{Rootfs: rootfs, Dirs: append(made, "../escape")})
	for _, gone := range []string{"dev", "sys", "run/x"} {
		require.NoDirExists(t, filepath.Join(rootfs, gone))
	}
	require.FileExists(t, filepath.Join(rootfs, "run", "kept"))
	require.DirExists(t, filepath.Join(rootfs, "proc"), "it was there before")
}
