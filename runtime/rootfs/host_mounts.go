package rootfs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/cgroupfs/mountinfo"
	"cm/runtime/namespace"
)

// A container without a mount namespace of its own builds its root
// filesystem in the host's: the bind of the rootfs onto itself, /proc,
// /dev and the rest stay mounted there after the container is gone, as
// nothing else will remove them. Delete does, with UnmountUnder.

// SharesHostMounts reports whether a config leaves the container in the
// runtime's mount namespace.
func SharesHostMounts(s *specs.Spec) bool {
	return s != nil && s.Linux != nil && namespace.Find(s, specs.MountNamespace) == nil
}

// UnmountUnder detaches every mount at or below dir in our mount
// namespace, deepest first so a parent never hides a child.
func UnmountUnder(dir string) error {
	points, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		// EINVAL: already gone with a parent (a recursive bind).
		if err := unmountBelow(dir, p); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
	}
	return nil
}

// unmountBelow detaches the mount at p, opened below dir without following
// any symlink: a directory swapped for a link since the mount table was
// read (by a container sharing a volume) must not lead us to unmount
// something of the host's.
func unmountBelow(dir, p string) error {
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
	fd, err := unix.Openat2(root, "."+strings.TrimPrefix(p, dir), how)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Unmount(fdPath(fd), unix.MNT_DETACH)
}

// mountPointsUnder lists the mount points at or below dir.
func mountPointsUnder(dir string) ([]string, error) {
	mounts, err := mountinfo.Thread()
	if err != nil {
		return nil, err
	}
	var points []string
	for _, m := range mounts {
		if mountinfo.Under(m.Point, dir) {
			points = append(points, m.Point)
		}
	}
	return points, nil
}
