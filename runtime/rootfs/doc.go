// Package rootfs builds a container's root filesystem from inside its
// mount namespace: the propagation of "/", the config's mounts (cgroup
// mounts included), the devices and /dev links, pivot_root or chroot,
// root.readonly, and the masked and read-only paths; and, for a container
// without a mount namespace, removes the mounts it left on the host.
//
// Every path inside the root filesystem is opened as a descriptor that
// cannot lead out of it (securejoin.go). It never creates a namespace,
// never touches cgroup files (it only mounts the hierarchies) and never
// runs hooks: the init in package runtime calls Setup and hands it the
// hook to run before the root changes.
package rootfs

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Config is what building the root filesystem needs from the init's config.
type Config struct {
	Spec      *specs.Spec
	Rootfs    string // absolute root.path
	BundleDir string // relative bind mount sources are taken from here
	NoPivot   bool   // chroot instead of pivot_root (for ramfs roots)
	UserNS    bool   // a new user namespace: devices are bind-mounted, not made
	// CgroupDirs maps each cgroup mount point to the container's cgroup
	// directory in it, for cgroup mounts without a cgroup namespace.
	CgroupDirs map[string]string
}

// Tracer records the steps of the build; runtime's *Trace is one.
type Tracer interface {
	Step(who, format string, args ...any) func()
}
