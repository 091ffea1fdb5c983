package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// requireEmptyDir fails if anything (file, directory, device, mount)
// appeared in dir.
func requireEmptyDir(t *testing.T, dir, msgf string, args ...any) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Empty(t, names, fmt.Sprintf(msgf, args...))
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	require.NotContains(t, string(mounts), " "+dir, "a mount in "+dir)
}

// TestMountDestinationSymlink: an image whose /a is a symlink to
// /../../<host dir> must get its mounts, mount points and devices under /a
// inside the rootfs (the link resolved as if the rootfs were "/", as runc
// does), never in the host directory.
func TestMountDestinationSymlink(t *testing.T) {
	e := newEnv(t)
	hostDir := filepath.Join(e.dir, "host-target")
	require.NoError(t, os.Mkdir(hostDir, 0o755))
	fileSrc := filepath.Join(e.dir, "file-source")
	require.NoError(t, os.WriteFile(fileSrc, []byte("from the bundle\n"), 0o644))

	bundle := e.bundle(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts,
			specs.Mount{Destination: "/a/b", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/a/dir/f", Type: "bind", Source: fileSrc, Options: []string{"bind", "ro"}},
		)
		s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: "/a/null", Type: "c", Major: 1, Minor: 3})
		s.Linux.ReadonlyPaths = append(s.Linux.ReadonlyPaths, "/a/b")
	}, "sh", "-c", "stat -f -c %T /a/b; cat /a/dir/f; test -c /a/null && echo device; touch /a/b/x 2>/dev/null || echo read-only")
	rootfs := filepath.Join(bundle, "rootfs")
	require.NoError(t, os.Symlink("/../../.."+hostDir, filepath.Join(rootfs, "a")))

	r := e.run(bundle)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	require.Equal(t, "tmpfs\nfrom the bundle\ndevice\nread-only", strings.TrimSpace(r.stdout))
	requireEmptyDir(t, hostDir, "cmrun created things in the host directory %s", hostDir)
	// The mount points were made where the link leads inside the rootfs.
	require.DirExists(t, filepath.Join(rootfs, hostDir, "b"))
	require.FileExists(t, filepath.Join(rootfs, hostDir, "dir/f"))
	fi, err := os.Lstat(filepath.Join(rootfs, hostDir, "null"))
	require.NoError(t, err)
	require.Equal(t, os.ModeDevice|os.ModeCharDevice, fi.Mode().Type())
}

// TestMountDestinationRace is CVE-2021-30465's attack: a volume shared
// with another (hostile) container, in which the attacker keeps swapping a
// directory for a symlink to a host directory while cmrun creates mount
// points, mounts (tmpfs, file and read-only directory binds) and devices
// below it. A host goroutine stands in for the
// attacker's container. Whatever cmrun manages or refuses, nothing may
// ever be created in the host directory.
func TestMountDestinationRace(t *testing.T) {
	e := newEnv(t)
	hostDir := filepath.Join(e.dir, "host-target")
	shared := filepath.Join(e.dir, "shared")
	fileSrc := filepath.Join(e.dir, "file-source")
	dirSrc := filepath.Join(e.dir, "dir-source")
	require.NoError(t, os.Mkdir(hostDir, 0o755))
	require.NoError(t, os.Mkdir(shared, 0o755))
	require.NoError(t, os.Mkdir(dirSrc, 0o755))
	require.NoError(t, os.WriteFile(fileSrc, nil, 0o644))
	const perKind = 30
	bundle := e.bundle(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: shared, Options: []string{"rbind"}})
		for i := 0; i < perKind; i++ {
			s.Mounts = append(s.Mounts,
				specs.Mount{Destination: fmt.Sprintf("/vol/a/d%d/x", i), Type: "tmpfs", Source: "tmpfs"},
				specs.Mount{Destination: fmt.Sprintf("/vol/a/f%d", i), Type: "bind", Source: fileSrc, Options: []string{"bind"}},
				specs.Mount{Destination: fmt.Sprintf("/vol/a/r%d", i), Type: "bind", Source: dirSrc, Options: []string{"rbind", "ro"}},
			)
			s.Linux.Devices = append(s.Linux.Devices, specs.LinuxDevice{Path: fmt.Sprintf("/vol/a/null%d", i), Type: "c", Major: 1, Minor: 3})
		}
	}, "true")

	a, link := filepath.Join(shared, "a"), filepath.Join(shared, "a-link")
	const attempts = 15
	var swaps atomic.Int64
	for i := 0; i < attempts; i++ {
		// A fresh, empty directory each time, so every mount point must be created.
		require.NoError(t, os.RemoveAll(a))
		require.NoError(t, os.RemoveAll(link))
		require.NoError(t, os.Mkdir(a, 0o755))
		require.NoError(t, os.Symlink(hostDir, link))

		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, link, unix.RENAME_EXCHANGE) == nil {
					swaps.Add(1)
				}
			}
		}()
		r := e.run(bundle)
		close(stop)
		wg.Wait()
		if r.code != 0 {
			t.Logf("attempt %d: cmrun refused: %s", i, strings.TrimSpace(r.stderr))
		}
		requireEmptyDir(t, hostDir, "attempt %d: cmrun created things outside the rootfs in %s (cmrun: %q)", i, hostDir, r.stderr)
	}
	require.Greater(t, swaps.Load(), int64(attempts), "the attacker never swapped the directory")
}
