package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestMountPropagation: a volume bound from a shared host mount follows
// its propagation option, as the CRI's mount propagation modes need
// (Bidirectional: rootfsPropagation and the mount rshared;
// HostToContainer: both rslave). A mount made on the host below the
// volume appears inside in both modes; one made inside the container
// reaches the host only with rshared. The container's own mounts (its
// rootfs bind, /proc...) never appear on the host.
func TestMountPropagation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		mode            string
		noPivot         bool
		containerToHost bool
	}{
		{"rshared", false, true},
		{"rslave", false, false},
		{"rshared", true, true},
	}
	for _, tc := range tests {
		name := tc.mode
		if tc.noPivot {
			name += " no-pivot"
		}
		t.Run(name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			// The host side: a shared mount, as kubelet requires for these modes.
			vol, err := os.MkdirTemp(e.dir, "vol-")
			require.NoError(t, err)
			require.NoError(t, unix.Mount(vol, vol, "", unix.MS_BIND, ""))
			t.Cleanup(func() {
				for _, sub := range []string{"in", "out", ""} {
					unix.Unmount(filepath.Join(vol, sub), unix.MNT_DETACH)
				}
			})
			require.NoError(t, unix.Mount("", vol, "", unix.MS_SHARED|unix.MS_REC, ""))

			bundle := e.bundle(func(s *specs.Spec) {
				s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: allCaps, Effective: allCaps, Permitted: allCaps}
				s.Linux.Seccomp = nil
				s.Linux.RootfsPropagation = tc.mode
				s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", tc.mode}})
			}, "sleep", "300")
			id := e.newID()
			t.Cleanup(func() { e.forceDelete(id) })
			args := []string{"run", "--detach", "--bundle", bundle}
			if tc.noPivot {
				args = append(args, "--no-pivot")
			}
			r := e.cmrun(append(args, id)...)
			require.Equal(t, 0, r.code, r.stderr)

			// Container to host.
			r = e.cmrun("exec", id, "sh", "-c", "mkdir /vol/in && mount -t tmpfs ctr /vol/in && touch /vol/in/from-container")
			require.Equal(t, 0, r.code, r.stderr)
			_, err = os.Stat(filepath.Join(vol, "in", "from-container"))
			require.Equal(t, tc.containerToHost, err == nil, "container's mount seen on the host: %v", err)

			// Host to container.
			require.NoError(t, os.Mkdir(filepath.Join(vol, "out"), 0o755))
			require.NoError(t, unix.Mount("hst", filepath.Join(vol, "out"), "tmpfs", 0, ""))
			require.NoError(t, os.WriteFile(filepath.Join(vol, "out", "from-host"), nil, 0o644))
			r = e.cmrun("exec", id, "ls", "/vol/out")
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, "from-host", strings.TrimSpace(r.stdout), "host's mount seen inside")

			mounts, err := os.ReadFile("/proc/self/mountinfo")
			require.NoError(t, err)
			require.NotContains(t, string(mounts), bundle, "a mount of the container reached the host")
			require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
		})
	}
}
