package runtime

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

// devLinks are the symlinks the spec requires in /dev.
var devLinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// createDevices makes the default devices, linux.devices, the /dev links
// and /dev/ptmx inside the root filesystem.
func createDevices(cfg *initConfig) error {
	s := cfg.Bundle.Spec
	rootfs := cfg.Bundle.Rootfs
	mode := os.FileMode(0o666)
	devices := make([]specs.LinuxDevice, 0, len(defaultDevices)+len(s.Linux.Devices))
	for _, d := range defaultDevices {
		d.FileMode = &mode
		devices = append(devices, d)
	}
	devices = append(devices, s.Linux.Devices...)
	for _, d := range devices {
		if err := createDevice(rootfs, d, cfg.UserNS); err != nil {
			return fmt.Errorf("device %s: %w", d.Path, err)
		}
	}
	for _, l := range devLinks {
		if err := symlinkInRootfs(rootfs, l[0], l[1]); err != nil {
			return err
		}
	}
	// With a private devpts instance, /dev/ptmx must lead to its ptmx.
	if pts, err := secureJoin(rootfs, "/dev/pts/ptmx"); err == nil {
		if _, err := os.Stat(pts); err == nil {
			ptmx, _ := secureJoin(rootfs, "/dev/ptmx")
			os.Remove(ptmx)
			if err := os.Symlink("pts/ptmx", ptmx); err != nil {
				return fmt.Errorf("link /dev/ptmx: %w", err)
			}
		}
	}
	return nil
}

var deviceTypes = map[string]uint32{"c": unix.S_IFCHR, "u": unix.S_IFCHR, "b": unix.S_IFBLK, "p": unix.S_IFIFO}

func createDevice(rootfs string, d specs.LinuxDevice, userNS bool) error {
	dest, err := secureJoin(rootfs, d.Path)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	if userNS {
		// mknod is not allowed in a user namespace: show the host's node instead.
		if err := createMountPoint(dest, false); err != nil {
			return err
		}
		return unix.Mount(d.Path, dest, "", unix.MS_BIND, "")
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	os.Remove(dest) // an image may ship its own (possibly wrong) node
	dev := int(unix.Mkdev(uint32(d.Major), uint32(d.Minor)))
	if err := unix.Mknod(dest, deviceTypes[d.Type]|perm, dev); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	// mknod applies the umask; chmod sets exactly the mode asked for.
	if err := unix.Chmod(dest, perm); err != nil {
		return err
	}
	uid, gid := -1, -1
	if d.UID != nil {
		uid = int(*d.UID)
	}
	if d.GID != nil {
		gid = int(*d.GID)
	}
	return os.Lchown(dest, uid, gid)
}

func symlinkInRootfs(rootfs, target, link string) error {
	dest, err := secureJoin(rootfs, link)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, dest); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("link %s: %w", link, err)
	}
	return nil
}
