package namespace

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CheckPath makes sure a path to join exists and is a namespace of the
// declared type, so a typo fails while checking the config and not half-way into setns.
func CheckPath(ns specs.LinuxNamespace) error {
	fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", ns.Path, err)
	}
	defer unix.Close(fd)
	kind, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("%s is not a namespace: %w", ns.Path, err)
	}
	if got := ByCloneFlag(kind); got != ns.Type {
		return fmt.Errorf("%s is a %s namespace, not %s", ns.Path, got, ns.Type)
	}
	return nil
}
