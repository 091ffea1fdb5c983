package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes the runtime-spec says every container gets
// (config-linux.md, "Default Devices").
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// DefaultDevices returns the nodes every container gets, for the cgroup
// rules that allow them.
func DefaultDevices() []specs.LinuxDevice {
	return append([]specs.LinuxDevice(nil), defaultDevices...)
}

// devLinks are the symlinks the spec requires in /dev.
var devLinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// createDevices makes the default devices, linux.devices, the /dev links
// and /dev/ptmx inside the root filesystem, all through descriptors of
// directories opened inside it.
func createDevices(cfg *Config, root *rootDir) error {
	s := cfg.Spec
	mode := os.FileMode(0o666)
	devices := make([]specs.LinuxDevice, 0, len(defaultDevices)+len(s.Linux.Devices))
	for _, d := range defaultDevices {
		d.FileMode = &mode
		devices = append(devices, d)
	}
	devices = append(devices, s.Linux.Devices...)
	for _, d := range devices {
		if err := createDevice(root, d, cfg.UserNS); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	for _, l := range devLinks {
		if err := symlinkInRootfs(root, l[0], l[1], false); err != nil {
			return err
		}
	}
	// With a private devpts instance, /dev/ptmx must lead to its ptmx.
	if fd, err := root.open("/dev/pts/ptmx", unix.O_PATH); err == nil {
		unix.Close(fd)
		if err := symlinkInRootfs(root, "pts/ptmx", "/dev/ptmx", true); err != nil {
			return err
		}
	}
	return nil
}

var deviceTypes = map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}

func createDevice(root *rootDir, d specs.LinuxDevice, userNS bool) error {
	if userNS {
		// mknod is not allowed in a user namespace: show the host's node instead.
		t, err := root.openTarget(d.Path, true)
		if err != nil {
			return err
		}
		defer t.close()
		return unix.Mount(d.Path, t.path(), "", unix.MS_BIND, "")
	}
	dir, name := filepath.Split(filepath.Clean("/" + d.Path))
	parent, err := root.mkdirAll(dir)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	// An image may ship its own (possibly wrong) node, or an empty directory.
	if unix.Unlinkat(parent, name, 0) != nil {
		unix.Unlinkat(parent, name, unix.AT_REMOVEDIR)
	}
	typ := deviceTypes[d.Type]
	dev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if err := unix.Mknodat(parent, name, typ|perm, dev); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	// Go on with the node itself, never with what its name may lead to by now.
	fd, err := unix.Openat(parent, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open new node: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	// A fifo has no device number, whatever the config says.
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != typ || (typ != unix.S_IFIFO && int(st.Rdev) != dev) {
		return fmt.Errorf("new node was replaced: %w", errMountTargetMoved)
	}
	// mknod applies the umask; chmod sets exactly the mode asked for.
	if err := unix.Chmod(fdPath(fd), perm); err != nil {
		return err
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	return unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
}

// symlinkInRootfs makes link (inside the rootfs) point to target; an
// existing link is kept unless replace is set.
func symlinkInRootfs(root *rootDir, target, link string, replace bool) error {
	dir, name := filepath.Split(filepath.Clean("/" + link))
	parent, err := root.mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	defer unix.Close(parent)
	if replace {
		unix.Unlinkat(parent, name, 0)
	}
	if err := unix.Symlinkat(target, parent, name); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}

// BindConsole binds the terminal at slavePath onto /dev/console of the
// calling process's root, best effort: a read-only /dev cannot take the
// mount point.
func BindConsole(slavePath string) {
	root, err := openRoot("/")
	if err != nil {
		return
	}
	defer root.close()
	if t, err := root.createFile("/dev/console"); err == nil {
		unix.Mount(slavePath, fdPath(t), "", unix.MS_BIND, "")
		unix.Close(t)
	}
}
