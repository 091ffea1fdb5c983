package rootfs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"cm/cgroupfs/mountinfo"
	"cm/runtime/namespace"
	"cm/runtime/spec"
)

// hostCgroupRoot is where hosts mount their cgroup hierarchies.
const hostCgroupRoot = "/sys/fs/cgroup"

// cgroupMount is one cgroup hierarchy mounted on the host.
type cgroupMount struct {
	point  string // e.g. /sys/fs/cgroup/memory
	fstype string // cgroup or cgroup2
	data   string // e.g. "memory" or "name=systemd": how to mount it again
}

// hostCgroupMounts lists the cgroup hierarchies under /sys/fs/cgroup.
func hostCgroupMounts() ([]cgroupMount, error) {
	mounts, err := mountinfo.Thread()
	if err != nil {
		return nil, err
	}
	var out []cgroupMount
	for _, m := range mounts {
		if (m.FSType != "cgroup" && m.FSType != "cgroup2") || !mountinfo.Under(m.Point, hostCgroupRoot) {
			continue
		}
		var data []string
		for _, o := range m.Options {
			if o != "rw" && o != "ro" {
				data = append(data, o)
			}
		}
		cm := cgroupMount{point: m.Point, fstype: m.FSType, data: strings.Join(data, ",")}
		// A later mount on the same point hides the earlier one (a host
		// whose "/" or /sys was mounted again lists each hierarchy twice).
		if i := slices.IndexFunc(out, func(o cgroupMount) bool { return o.point == m.Point }); i >= 0 {
			out[i] = cm
			continue
		}
		out = append(out, cm)
	}
	return out, nil
}

// mountCgroup gives the container a view of its cgroups at dest. With a
// cgroup namespace a fresh mount of each hierarchy shows the container's
// own cgroup as the root. Without one, the container's cgroup directories
// are bind-mounted, so it still cannot see or touch its neighbours.
func mountCgroup(cfg *Config, t *mountTarget, opts spec.MountOptions) error {
	mounts, err := hostCgroupMounts()
	if err != nil {
		return fmt.Errorf("read cgroup mounts: %w", err)
	}
	ownNS := namespace.Has(cfg.Spec, "cgroup")
	flags := opts.Flags &^ (unix.MS_BIND | unix.MS_REC)
	// Pure cgroup v2: one hierarchy right at /sys/fs/cgroup.
	if len(mounts) == 1 && mounts[0].point == hostCgroupRoot && mounts[0].fstype == "cgroup2" {
		return mountHierarchy(mounts[0], t, cfg.CgroupDirs, ownNS, flags)
	}
	// v1 or hybrid: a tmpfs holding one directory per hierarchy.
	if err := unix.Mount("tmpfs", t.path(), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs for cgroups on %s: %w", t.name, err)
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("mount tmpfs for cgroups: %w", err)
	}
	// Below here all is in our fresh tmpfs, out of reach of anyone else:
	// paths through t's descriptor are safe.
	dest := t.path()
	for _, m := range mounts {
		if m.point == hostCgroupRoot {
			continue
		}
		sub := filepath.Join(dest, strings.TrimPrefix(m.point, hostCgroupRoot+"/"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("create cgroup mount point: %w", err)
		}
		subT, err := openCgroupSubdir(sub, filepath.Join(t.name, filepath.Base(sub)))
		if err != nil {
			return err
		}
		err = mountHierarchy(m, subT, cfg.CgroupDirs, ownNS, flags)
		subT.close()
		if err != nil {
			return err
		}
	}
	// Co-mounted controllers appear on hosts as symlinks (cpu -> cpu,cpuacct).
	entries, _ := os.ReadDir(hostCgroupRoot)
	for _, e := range entries {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		if target, err := os.Readlink(filepath.Join(hostCgroupRoot, e.Name())); err == nil {
			os.Symlink(target, filepath.Join(dest, e.Name()))
		}
	}
	if flags&unix.MS_RDONLY != 0 {
		if err := unix.Mount("", dest, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
			return fmt.Errorf("remount %s read-only: %w", t.name, err)
		}
	}
	return nil
}

func mountHierarchy(m cgroupMount, t *mountTarget, cgroupDirs map[string]string, ownNS bool, flags uintptr) error {
	if ownNS {
		if err := unix.Mount(m.fstype, t.path(), m.fstype, flags, m.data); err != nil {
			return fmt.Errorf("mount %s (%s) on %s: %w", m.fstype, m.data, t.name, err)
		}
		return nil
	}
	// The cgroup package knows where the group is in each hierarchy; a
	// relative cgroupsPath is below a different cgroup in each one.
	src, ok := cgroupDirs[m.point]
	if !ok {
		return fmt.Errorf("no cgroup directory of the container in %s", m.point)
	}
	if err := unix.Mount(src, t.path(), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, t.name, err)
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return remount(t.path(), flags)
}

// openCgroupSubdir opens a directory made in the cgroup tmpfs as a mount target.
func openCgroupSubdir(dir, name string) (*mountTarget, error) {
	open := func() (int, error) {
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return fd, nil
	}
	fd, err := open()
	if err != nil {
		return nil, fmt.Errorf("open cgroup mount point: %w", err)
	}
	return &mountTarget{fd: fd, name: name, open: open}, nil
}
