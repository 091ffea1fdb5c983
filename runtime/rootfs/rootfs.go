package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

// Setup builds the container's root filesystem and makes it "/" of
// the init. beforePivot runs after all mounts and devices exist but while
// the host is still visible: the spec's createRuntime and createContainer
// hooks belong there.
//
// mountNS is false for a config without any mount namespace: then the
// mounts land in the host's namespace (as under runc; delete removes
// them, see host_mounts.go), the host's propagation is left alone, and a
// chroot, not pivot_root, changes the root.
func Setup(cfg *Config, t Tracer, mountNS bool, beforePivot func() error) error {
	s := cfg.Spec
	rootfs := cfg.Rootfs

	// Our mount namespace starts as a copy of the host's, still joined to
	// its peers: make it a one-way street (slave) or a dead end (private)
	// before mounting anything, so nothing we do leaks to the host.
	if mountNS {
		done := t.Step("init", "make / %s", firstPropagation(s.Linux.RootfsPropagation))
		err := unix.Mount("", "/", "", firstPropagationFlags(s.Linux.RootfsPropagation), "")
		done()
		if err != nil {
			return fmt.Errorf("set propagation of /: %w", err)
		}
		if err := privateRootfsParent(s.Linux.RootfsPropagation, rootfs, cfg.NoPivot); err != nil {
			return err
		}
	}
	// pivot_root needs the new root to be a mount point, and so does
	// root.readonly, which must not remount the host's filesystem.
	done := t.Step("init", "bind %s onto itself", rootfs)
	err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, "")
	done()
	if err != nil {
		return fmt.Errorf("bind root.path %s: %w", rootfs, err)
	}
	if err := buildInRoot(cfg, t); err != nil {
		return err
	}
	if err := beforePivot(); err != nil {
		return err
	}
	switch {
	case !mountNS:
		done = t.Step("init", "chroot %s (no mount namespace)", rootfs)
		err = chroot(rootfs)
	case cfg.NoPivot:
		done = t.Step("init", "chroot %s (--no-pivot)", rootfs)
		err = moveRootAndChroot(rootfs)
	default:
		done = t.Step("init", "pivot_root %s", rootfs)
		err = pivotRoot(rootfs)
	}
	done()
	if err != nil {
		return err
	}
	if s.Root.Readonly {
		done = t.Step("init", "remount / read-only")
		err = remount("/", unix.MS_RDONLY)
		done()
		if err != nil {
			return fmt.Errorf("root.readonly: %w", err)
		}
	}
	// Now that the host is out of sight, give "/" the propagation asked for.
	if p := s.Linux.RootfsPropagation; p != "" && mountNS {
		flag, _ := spec.Propagation(p) // validated
		if err := unix.Mount("", "/", "", flag, ""); err != nil {
			return fmt.Errorf("linux.rootfsPropagation %s: %w", p, err)
		}
	}
	return nil
}

// readonlyDevLater returns a read-only /dev mount made writable: the
// mounts under /dev and the device nodes need it so, and it turns
// read-only once they are made, as with runc.
func readonlyDevLater(m specs.Mount) (specs.Mount, bool) {
	if filepath.Clean(m.Destination) != "/dev" {
		return m, false
	}
	opts, err := spec.ParseMountOptions(m.Options)
	if err != nil || opts.Flags&unix.MS_RDONLY == 0 {
		return m, false
	}
	rw := m
	rw.Options = append(append([]string{}, m.Options...), "rw") // the last of ro/rw wins
	return rw, true
}

// firstPropagation is what "/" gets before any mount: private for the
// private and unbindable modes, the mode itself for the shared ones (as
// under runc: a bidirectional volume's bind must stay a peer of the
// host's mount, which a slave "/" would cut off), slave otherwise.
func firstPropagation(mode string) string {
	switch mode {
	case "private", "rprivate", "unbindable", "runbindable":
		return "rprivate"
	case "shared", "rshared":
		return mode
	}
	return "rslave"
}

func firstPropagationFlags(mode string) uintptr {
	flag, _ := spec.Propagation(firstPropagation(mode))
	return flag
}

// buildInRoot makes the mounts and devices of the config, every one of
// them opened inside the rootfs and mounted by descriptor (securejoin.go).
func buildInRoot(cfg *Config, t Tracer) error {
	if err := checkProcfs(); err != nil {
		return err
	}
	root, err := openRoot(cfg.Rootfs)
	if err != nil {
		return err
	}
	defer root.close()
	var readonlyDev *specs.Mount
	for i, m := range cfg.Spec.Mounts {
		if rw, ok := readonlyDevLater(m); ok {
			readonlyDev, m = &cfg.Spec.Mounts[i], rw
		}
		done := t.Step("init", "mount %s (%s) on %s", m.Source, m.Type, m.Destination)
		err := mountInRootfs(cfg, root, m)
		done()
		if err != nil {
			return fmt.Errorf("mounts[%d] %s: %w", i, m.Destination, err)
		}
	}
	done := t.Step("init", "create devices and /dev links")
	err = createDevices(cfg, root)
	done()
	if err != nil || readonlyDev == nil {
		return err
	}
	opts, _ := spec.ParseMountOptions(readonlyDev.Options) // parsed once already
	dev, err := root.open("/dev", unix.O_PATH|unix.O_DIRECTORY)
	if err == nil {
		err = remount(fdPath(dev), opts.Flags|unix.MS_RDONLY)
		unix.Close(dev)
	}
	if err != nil {
		return fmt.Errorf("make /dev read-only: %w", err)
	}
	return nil
}

// pivotRoot makes rootfs the root of the mount namespace and detaches the
// old root. pivot_root(".", ".") stacks the old root on top of the new one
// at "/", where a lazy unmount removes it: no directory for the old root
// is needed inside the image (pivot_root(2) describes this idiom).
func pivotRoot(rootfs string) error {
	oldroot, err := unix.Open("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open old root: %w", err)
	}
	defer unix.Close(oldroot)
	newroot, err := unix.Open(rootfs, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new root: %w", err)
	}
	defer unix.Close(newroot)
	if err := unix.Fchdir(newroot); err != nil {
		return fmt.Errorf("chdir to new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root %s: %w", rootfs, err)
	}
	if err := unix.Fchdir(oldroot); err != nil {
		return fmt.Errorf("chdir to old root: %w", err)
	}
	// Keep the unmount from propagating to anything still linked to the host.
	if err := unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make old root a slave: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir /: %w", err)
	}
	return nil
}

// moveRootAndChroot is the --no-pivot path for roots that cannot be
// pivoted (a ramfs initramfs): move the rootfs mount over "/" and chroot.
// Weaker: the old root is still reachable by a process that escapes the chroot.
func moveRootAndChroot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("chdir %s: %w", rootfs, err)
	}
	if err := unix.Mount(rootfs, "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", rootfs, err)
	}
	return chroot(".")
}

// chroot makes dir the root of the init and goes there.
func chroot(dir string) error {
	if err := unix.Chroot(dir); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	return unix.Chdir("/")
}

// MaskAndProtect applies linux.maskedPaths (made unreadable: /dev/null
// over files, an empty read-only tmpfs over directories) and
// linux.readonlyPaths. Paths missing from the image are skipped. It runs
// after pivot_root, but a shared volume could still swap a component:
// each path is opened inside "/" and mounted by descriptor.
func MaskAndProtect(l *specs.Linux) error {
	if len(l.MaskedPaths) == 0 && len(l.ReadonlyPaths) == 0 {
		return nil
	}
	root, err := openRoot("/")
	if err != nil {
		return err
	}
	defer root.close()
	for _, p := range l.MaskedPaths {
		if err := maskPath(root, p); err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	for _, p := range l.ReadonlyPaths {
		if err := readonlyPath(root, p); err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	return nil
}

// openExisting opens p inside root as a mount target; (nil, nil) if p is missing.
func openExisting(root *rootDir, p string) (*mountTarget, error) {
	fd, err := root.open(p, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The container's own /proc, which a config may leave out.
	if err := checkProcfs(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &mountTarget{fd: fd, name: p, open: func() (int, error) { return root.open(p, unix.O_PATH) }}, nil
}

func maskPath(root *rootDir, p string) error {
	t, err := openExisting(root, p)
	if t == nil || err != nil {
		return err
	}
	defer t.close()
	var st unix.Stat_t
	if err := unix.Fstat(t.fd, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.Mount("tmpfs", t.path(), "tmpfs", unix.MS_RDONLY, "size=0k")
	}
	return unix.Mount("/dev/null", t.path(), "", unix.MS_BIND, "")
}

func readonlyPath(root *rootDir, p string) error {
	t, err := openExisting(root, p)
	if t == nil || err != nil {
		return err
	}
	defer t.close()
	if err := unix.Mount(t.path(), t.path(), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if err := t.mounted(); err != nil {
		return err
	}
	return remount(t.path(), unix.MS_RDONLY|unix.MS_REC)
}
