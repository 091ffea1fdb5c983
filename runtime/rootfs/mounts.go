package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

// mountInRootfs performs one entry of config.json's mounts, with its
// destination opened (and created) inside the root filesystem, and the
// mount made onto that descriptor.
func mountInRootfs(cfg *Config, root *rootDir, m specs.Mount) error {
	opts, err := spec.ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	switch {
	case m.Type == "cgroup" || m.Type == "cgroup2":
		t, err := root.openTarget(m.Destination, false)
		if err != nil {
			return fmt.Errorf("create cgroup mount point: %w", err)
		}
		defer t.close()
		return mountCgroup(cfg, t, opts)
	case opts.Bind() || m.Type == "bind":
		opts.Flags |= unix.MS_BIND
		return bindMount(root, cfg.BundleDir, m.Source, m.Destination, opts)
	}
	t, err := root.openTarget(m.Destination, false)
	if err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	defer t.close()
	data := strings.Join(opts.Data, ",")
	err = unix.Mount(m.Source, t.path(), m.Type, opts.Flags, data)
	if err != nil && m.Type == "sysfs" && errors.Is(err, unix.EPERM) {
		// Without its own network namespace a container may not mount a
		// new sysfs; show it the host's read-only instead, as runc does.
		err = unix.Mount("/sys", t.path(), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil {
			err = t.mounted()
		}
		if err == nil {
			err = remount(t.path(), opts.Flags|unix.MS_RDONLY|unix.MS_BIND)
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, m.Type, m.Destination, err)
	}
	if err := readonlyTree(t, opts); err != nil {
		return err
	}
	return setPropagation(t, opts.Propagation)
}

// bindMount makes source (absolute, or relative to the bundle) visible at
// dest. The source is opened first, so the mount point is made of the
// same kind (directory or file) as what is then mounted.
func bindMount(root *rootDir, bundleDir, source, dest string, opts spec.MountOptions) error {
	if !filepath.IsAbs(source) {
		source = filepath.Join(bundleDir, source)
	}
	src, err := unix.Open(source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bind source: %w", &os.PathError{Op: "stat", Path: source, Err: err})
	}
	defer unix.Close(src)
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err != nil {
		return fmt.Errorf("bind source: %w", &os.PathError{Op: "stat", Path: source, Err: err})
	}
	t, err := root.openTarget(dest, st.Mode&unix.S_IFMT != unix.S_IFDIR)
	if err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	defer t.close()
	// A bind mount ignores every flag but MS_BIND|MS_REC on the first
	// call: read-only and friends need a remount.
	if err := unix.Mount(fdPath(src), t.path(), "", opts.Flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, dest, err)
	}
	rest := opts.Flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if rest == 0 && len(opts.Propagation) == 0 && !opts.RecursiveReadonly {
		return nil
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, dest, err)
	}
	if rest != 0 {
		if err := remount(t.path(), opts.Flags); err != nil {
			return fmt.Errorf("%s: %w", dest, err)
		}
	}
	if err := readonlyTree(t, opts); err != nil {
		return err
	}
	return setPropagation(t, opts.Propagation)
}

// readonlyTree applies "rro": mount_setattr with AT_RECURSIVE sets the
// read-only attribute on the mount and every mount below it at once,
// which remount cannot do (Linux 5.12 and later).
func readonlyTree(t *mountTarget, opts spec.MountOptions) error {
	if !opts.RecursiveReadonly {
		return nil
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("rro: %s: %w", t.name, err)
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(t.fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, attr); err != nil {
		return fmt.Errorf("rro: make %s and the mounts under it read-only: %w", t.name, err)
	}
	return nil
}

// remount changes the flags of an existing bind mount. In a user namespace
// the kernel "locks" nosuid/nodev/noexec/ro/atime flags inherited from a
// more privileged mount, so on EPERM retry while keeping what is there.
func remount(dest string, flags uintptr) error {
	flags |= unix.MS_REMOUNT | unix.MS_BIND
	err := unix.Mount("", dest, "", flags, "")
	if errors.Is(err, unix.EPERM) {
		var st unix.Statfs_t
		if serr := unix.Statfs(dest, &st); serr == nil {
			locked := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RDONLY |
				unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME)
			err = unix.Mount("", dest, "", flags|locked, "")
		}
	}
	if err != nil {
		return fmt.Errorf("remount %s: %w", dest, err)
	}
	return nil
}

// setPropagation changes the propagation of the mount just made on t.
func setPropagation(t *mountTarget, props []uintptr) error {
	if len(props) == 0 {
		return nil
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("set propagation: %w", err)
	}
	for _, p := range props {
		if err := unix.Mount("", t.path(), "", p, ""); err != nil {
			return fmt.Errorf("set propagation of %s: %w", t.name, err)
		}
	}
	return nil
}
