package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"cm/cgroupfs/mountinfo"
)

// privateRootfsParent makes the mount holding rootfs private when "/" was
// made shared (linux.rootfsPropagation shared or rshared): the bind of
// rootfs onto itself, and every mount made inside it, would otherwise
// reach the host through that mount's peers. Only the volumes bound from
// shared host mounts stay peers of the host, which is the point. With
// noPivot "/" itself is made private too: moving rootfs onto a shared "/"
// would stack it on the host's root as well.
func privateRootfsParent(mode, rootfs string, noPivot bool) error {
	if firstPropagation(mode) != "shared" && firstPropagation(mode) != "rshared" {
		return nil
	}
	mounts, err := mountinfo.Thread()
	if err != nil {
		return err
	}
	parent := "/"
	for _, m := range mounts {
		if mountinfo.Under(rootfs, m.Point) && len(m.Point) > len(parent) {
			parent = m.Point
		}
	}
	if err := unix.Mount("", parent, "", unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make %s, the mount holding root.path, private: %w", parent, err)
	}
	if noPivot && parent != "/" {
		if err := unix.Mount("", "/", "", unix.MS_PRIVATE, ""); err != nil {
			return fmt.Errorf("make / private for --no-pivot: %w", err)
		}
	}
	return nil
}
