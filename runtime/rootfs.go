package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// setupRootfs builds the container's root filesystem and makes it "/" of
// the init. beforePivot runs after all mounts and devices exist but while
// the host is still visible: the spec's createRuntime and createContainer
// hooks belong there.
//
// mountNS is false for a config without any mount namespace: then the
// mounts land in the host's namespace (as under runc; delete removes
// them, see host_mounts.go), the host's propagation is left alone, and a
// chroot, not pivot_root, changes the root.
func setupRootfs(cfg *initConfig, t *Trace, mountNS bool, beforePivot func() error) error {
	s := cfg.Bundle.Spec
	rootfs := cfg.Bundle.Rootfs

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
	}
	// pivot_root needs the new root to be a mount point, and so does
	// root.readonly, which must not remount the host's filesystem.
	done := t.Step("init", "bind %s onto itself", rootfs)
	err := unix.Mount(rootfs, rootfs, "", unix.MS_BIND|unix.MS_REC, "")
	done()
	if err != nil {
		return fmt.Errorf("bind root.path %s: %w", rootfs, err)
	}
	var readonlyDev *specs.Mount
	for i, m := range s.Mounts {
		if ro, ok := readonlyDevLater(m); ok {
			readonlyDev, m = &s.Mounts[i], ro
		}
		done := t.Step("init", "mount %s (%s) on %s", m.Source, m.Type, m.Destination)
		err := mountInRootfs(cfg, m)
		done()
		if err != nil {
			return fmt.Errorf("mounts[%d] %s: %w", i, m.Destination, err)
		}
	}
	done = t.Step("init", "create devices and /dev links")
	err = createDevices(cfg)
	done()
	if err != nil {
		return err
	}
	if readonlyDev != nil {
		opts, _ := parseMountOptions(readonlyDev.Options) // parsed once already
		dest, err := secureJoin(rootfs, "/dev")
		if err == nil {
			err = remount(dest, opts.flags|unix.MS_RDONLY)
		}
		if err != nil {
			return fmt.Errorf("make /dev read-only: %w", err)
		}
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
		if err := unix.Mount("", "/", "", propagationFlags[p], ""); err != nil {
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
	opts, err := parseMountOptions(m.Options)
	if err != nil || opts.flags&unix.MS_RDONLY == 0 {
		return m, false
	}
	rw := m
	rw.Options = append(append([]string{}, m.Options...), "rw") // the last of ro/rw wins
	return rw, true
}

// firstPropagation is what "/" gets before any mount: private for the
// private and unbindable modes, slave otherwise (also for "shared": the
// container must never push mounts to the host's peers).
func firstPropagation(mode string) string {
	switch mode {
	case "private", "rprivate", "unbindable", "runbindable":
		return "rprivate"
	}
	return "rslave"
}

func firstPropagationFlags(mode string) uintptr { return propagationFlags[firstPropagation(mode)] }

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

// maskAndProtect applies linux.maskedPaths (made unreadable: /dev/null
// over files, an empty read-only tmpfs over directories) and
// linux.readonlyPaths. Paths missing from the image are skipped.
func maskAndProtect(l *specs.Linux) error {
	for _, p := range l.MaskedPaths {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
		if fi.IsDir() {
			err = unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, "size=0k")
		} else {
			err = unix.Mount("/dev/null", p, "", unix.MS_BIND, "")
		}
		if err != nil {
			return fmt.Errorf("linux.maskedPaths %s: %w", p, err)
		}
	}
	for _, p := range l.ReadonlyPaths {
		err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, "")
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err == nil {
			err = remount(p, unix.MS_RDONLY|unix.MS_REC)
		}
		if err != nil {
			return fmt.Errorf("linux.readonlyPaths %s: %w", p, err)
		}
	}
	return nil
}
