package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountFlags maps mount(8) option words to the flags they set (set=true)
// or clear (set=false).
var mountFlags = map[string]struct {
	set  bool
	flag uintptr
}{
	"ro": {true, unix.MS_RDONLY}, "rw": {false, unix.MS_RDONLY},
	"nosuid": {true, unix.MS_NOSUID}, "suid": {false, unix.MS_NOSUID},
	"nodev": {true, unix.MS_NODEV}, "dev": {false, unix.MS_NODEV},
	"noexec": {true, unix.MS_NOEXEC}, "exec": {false, unix.MS_NOEXEC},
	"sync": {true, unix.MS_SYNCHRONOUS}, "async": {false, unix.MS_SYNCHRONOUS},
	"dirsync": {true, unix.MS_DIRSYNC}, "remount": {true, unix.MS_REMOUNT},
	"mand": {true, unix.MS_MANDLOCK}, "nomand": {false, unix.MS_MANDLOCK},
	"noatime": {true, unix.MS_NOATIME}, "atime": {false, unix.MS_NOATIME},
	"nodiratime": {true, unix.MS_NODIRATIME}, "diratime": {false, unix.MS_NODIRATIME},
	"relatime": {true, unix.MS_RELATIME}, "norelatime": {false, unix.MS_RELATIME},
	"strictatime": {true, unix.MS_STRICTATIME}, "nostrictatime": {false, unix.MS_STRICTATIME},
	"lazytime": {true, unix.MS_LAZYTIME}, "nolazytime": {false, unix.MS_LAZYTIME},
	"silent": {true, unix.MS_SILENT}, "loud": {false, unix.MS_SILENT},
	"nosymfollow": {true, unix.MS_NOSYMFOLLOW}, "symfollow": {false, unix.MS_NOSYMFOLLOW},
	"bind": {true, unix.MS_BIND}, "rbind": {true, unix.MS_BIND | unix.MS_REC},
}

// propagationFlags are the mount propagation types (mount_namespaces(7)).
var propagationFlags = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// unsupportedOptions are options other runtimes accept that cmrun cannot honour.
var unsupportedOptions = map[string]string{
	"idmap": "idmapped mounts", "ridmap": "idmapped mounts",
	"rrw": "recursive mount attributes",
}

// mountOptions is a parsed options list of one mount.
type mountOptions struct {
	flags       uintptr   // flags for mount(2)
	propagation []uintptr // applied one by one after the mount
	data        []string  // everything else goes to the filesystem (mode=755, size=...)
	// recursiveReadonly ("rro") makes every mount under the mount
	// read-only too; "ro" covers the top mount only.
	recursiveReadonly bool
}

func (o mountOptions) bind() bool { return o.flags&unix.MS_BIND != 0 }

func parseMountOptions(opts []string) (mountOptions, error) {
	var o mountOptions
	for _, opt := range opts {
		if f, ok := mountFlags[opt]; ok {
			if f.set {
				o.flags |= f.flag
			} else {
				o.flags &^= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if what, ok := unsupportedOptions[opt]; ok {
			return o, fmt.Errorf("%q (%s) is not supported by cmrun", opt, what)
		}
		if opt == "rro" {
			o.recursiveReadonly = true
			continue
		}
		if opt == "tmpcopyup" {
			continue // runc's copy-up of image content into a tmpfs: not done, the tmpfs starts empty
		}
		o.data = append(o.data, opt)
	}
	return o, nil
}

// mountInRootfs performs one entry of config.json's mounts, with its
// destination opened (and created) inside the root filesystem, and the
// mount made onto that descriptor.
func mountInRootfs(cfg *initConfig, root *rootDir, m specs.Mount) error {
	opts, err := parseMountOptions(m.Options)
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
	case opts.bind() || m.Type == "bind":
		opts.flags |= unix.MS_BIND
		return bindMount(root, cfg.Bundle.Dir, m.Source, m.Destination, opts)
	}
	t, err := root.openTarget(m.Destination, false)
	if err != nil {
		return fmt.Errorf("create mount point: %w", err)
	}
	defer t.close()
	data := strings.Join(opts.data, ",")
	err = unix.Mount(m.Source, t.path(), m.Type, opts.flags, data)
	if err != nil && m.Type == "sysfs" && errors.Is(err, unix.EPERM) {
		// Without its own network namespace a container may not mount a
		// new sysfs; show it the host's read-only instead, as runc does.
		err = unix.Mount("/sys", t.path(), "", unix.MS_BIND|unix.MS_REC, "")
		if err == nil {
			err = t.mounted()
		}
		if err == nil {
			err = remount(t.path(), opts.flags|unix.MS_RDONLY|unix.MS_BIND)
		}
	}
	if err != nil {
		return fmt.Errorf("mount %s (%s) on %s: %w", m.Source, m.Type, m.Destination, err)
	}
	if err := readonlyTree(t, opts); err != nil {
		return err
	}
	return setPropagation(t, opts.propagation)
}

// bindMount makes source (absolute, or relative to the bundle) visible at
// dest. The source is opened first, so the mount point is made of the
// same kind (directory or file) as what is then mounted.
func bindMount(root *rootDir, bundleDir, source, dest string, opts mountOptions) error {
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
	if err := unix.Mount(fdPath(src), t.path(), "", opts.flags&(unix.MS_BIND|unix.MS_REC), ""); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, dest, err)
	}
	rest := opts.flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
	if rest == 0 && len(opts.propagation) == 0 && !opts.recursiveReadonly {
		return nil
	}
	if err := t.mounted(); err != nil {
		return fmt.Errorf("bind %s on %s: %w", source, dest, err)
	}
	if rest != 0 {
		if err := remount(t.path(), opts.flags); err != nil {
			return fmt.Errorf("%s: %w", dest, err)
		}
	}
	if err := readonlyTree(t, opts); err != nil {
		return err
	}
	return setPropagation(t, opts.propagation)
}

// readonlyTree applies "rro": mount_setattr with AT_RECURSIVE sets the
// read-only attribute on the mount and every mount below it at once,
// which remount cannot do (Linux 5.12 and later).
func readonlyTree(t *mountTarget, opts mountOptions) error {
	if !opts.recursiveReadonly {
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
