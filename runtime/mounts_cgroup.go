package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"cm/runtime/mountinfo"
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
		out = append(out, cgroupMount{point: m.Point, fstype: m.FSType, data: strings.Join(data, ",")})
	}
	return out, nil
}

// mountCgroup gives the container a view of its cgroups at dest. With a
// cgroup namespace a fresh mount of each hierarchy shows the container's
// own cgroup as the root. Without one, the container's cgroup directories
// are bind-mounted, so it still cannot see or touch its neighbours.
func mountCgroup(cfg *initConfig, dest string, opts mountOptions) error {
	mounts, err := hostCgroupMounts()
	if err != nil {
		return fmt.Errorf("read cgroup mounts: %w", err)
	}
	ownNS := hasNamespace(cfg.Bundle.Spec, "cgroup")
	flags := opts.flags &^ (unix.MS_BIND | unix.MS_REC)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("create cgroup mount point: %w", err)
	}
	// Pure cgroup v2: one hierarchy right at /sys/fs/cgroup.
	if len(mounts) == 1 && mounts[0].point == hostCgroupRoot && mounts[0].fstype == "cgroup2" {
		return mountHierarchy(mounts[0], dest, cfg.CgroupDirs, ownNS, flags)
	}
	// v1 or hybrid: a tmpfs holding one directory per hierarchy.
	if err := unix.Mount("tmpfs", dest, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=755"); err != nil {
		return fmt.Errorf("mount tmpfs for cgroups on %s: %w", dest, err)
	}
	for _, m := range mounts {
		if m.point == hostCgroupRoot {
			continue
		}
		sub := filepath.Join(dest, strings.TrimPrefix(m.point, hostCgroupRoot+"/"))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return fmt.Errorf("create cgroup mount point: %w", err)
		}
		if err := mountHierarchy(m, sub, cfg.CgroupDirs, ownNS, flags); err != nil {
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
			return fmt.Errorf("remount %s read-only: %w", dest, err)
		}
	}
	return nil
}

func mountHierarchy(m cgroupMount, dest string, cgroupDirs map[string]string, ownNS bool, flags uintptr) error {
	if ownNS {
		if err := unix.Mount(m.fstype, dest, m.fstype, flags, m.data); err != nil {
			return fmt.Errorf("mount %s (%s) on %s: %w", m.fstype, m.data, dest, err)
		}
		return nil
	}
	// The cgroup package knows where the group is in each hierarchy; a
	// relative cgroupsPath is below a different cgroup in each one.
	src, ok := cgroupDirs[m.point]
	if !ok {
		return fmt.Errorf("no cgroup directory of the container in %s", m.point)
	}
	if err := unix.Mount(src, dest, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", src, dest, err)
	}
	return remount(dest, flags)
}
