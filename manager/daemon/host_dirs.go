package daemon

import "path/filepath"

// hostSystemDirs are directories of the host that must never be a
// container's root filesystem: the runtime would make mount points in
// them and the container would run on (and, read-write, change) the
// host's own files.
var hostSystemDirs = map[string]bool{
	"/lib": true, "/lib32": true, "/lib64": true, "/libx32": true,
	"/usr/lib32": true, "/usr/lib64": true, "/usr/libx32": true,
	"/bin": true, "/boot": true, "/dev": true, "/etc": true, "/home": true, "/opt": true,
	"/proc": true, "/root": true, "/run": true, "/sbin": true, "/srv": true, "/sys": true,
	"/tmp": true, "/usr": true, "/var": true,
	"/usr/bin": true, "/usr/sbin": true, "/usr/lib": true, "/usr/libexec": true, "/usr/include": true,
	"/usr/local": true, "/usr/share": true, "/usr/src": true,
	"/var/lib": true, "/var/log": true, "/var/cache": true, "/var/tmp": true, "/var/spool": true, "/var/mail": true,
}

// isHostSystemDir reports whether the resolved path is one of them.
func isHostSystemDir(resolved string) bool { return hostSystemDirs[resolved] }

// checkHostRootfs refuses a root filesystem that is, or resolves to, the
// host's "/" or one of its system directories. field prefixes the
// problem ("rootfs", "bundle"), what names the path ("", "root.path: ").
func checkHostRootfs(field, what, path string) error {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return badField(field, "%s%v", what, err)
	}
	const own = "give the container a root filesystem of its own"
	same := filepath.Clean(path) == resolved
	switch {
	case resolved == "/" && same:
		return badField(field, "%s%s is the host's root directory; %s", what, path, own)
	case resolved == "/":
		return badField(field, "%s%s resolves to /, the host's root directory; %s", what, path, own)
	case isHostSystemDir(resolved) && same:
		return badField(field, "%s%s is a host system directory; %s", what, path, own)
	case isHostSystemDir(resolved):
		return badField(field, "%s%s resolves to %s, a host system directory; %s", what, path, resolved, own)
	}
	return nil
}
