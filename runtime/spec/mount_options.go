package spec

import (
	"fmt"
	"sort"

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

// MountOptions is a parsed options list of one mount.
type MountOptions struct {
	Flags       uintptr   // flags for mount(2)
	Propagation []uintptr // applied one by one after the mount
	Data        []string  // everything else goes to the filesystem (mode=755, size=...)
	// RecursiveReadonly ("rro") makes every mount under the mount
	// read-only too; "ro" covers the top mount only.
	RecursiveReadonly bool
}

// Bind reports whether the options make a bind mount.
func (o MountOptions) Bind() bool { return o.Flags&unix.MS_BIND != 0 }

// ParseMountOptions splits a mount's options into flags, propagation
// changes and filesystem data, refusing what cmrun cannot honour.
func ParseMountOptions(opts []string) (MountOptions, error) {
	var o MountOptions
	for _, opt := range opts {
		if f, ok := mountFlags[opt]; ok {
			if f.set {
				o.Flags |= f.flag
			} else {
				o.Flags &^= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[opt]; ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if what, ok := unsupportedOptions[opt]; ok {
			return o, fmt.Errorf("%q (%s) is not supported by cmrun", opt, what)
		}
		if opt == "rro" {
			o.RecursiveReadonly = true
			continue
		}
		if opt == "tmpcopyup" {
			continue // runc's copy-up of image content into a tmpfs: not done, the tmpfs starts empty
		}
		o.Data = append(o.Data, opt)
	}
	return o, nil
}

// Propagation is the mount(2) flag of a propagation mode such as "rslave".
func Propagation(mode string) (uintptr, bool) {
	f, ok := propagationFlags[mode]
	return f, ok
}

// MountOptionNames lists every option word that sets a flag or a propagation, sorted.
func MountOptionNames() []string {
	var names []string
	for o := range mountFlags {
		names = append(names, o)
	}
	for o := range propagationFlags {
		names = append(names, o)
	}
	sort.Strings(names)
	return names
}
