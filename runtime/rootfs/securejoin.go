package rootfs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Paths inside the root filesystem are never handed to the kernel as
// strings that it resolves from the host's "/": a hostile image, or a
// container sharing a volume with this one, could put (or swap in, between
// a check and a use) a symlink leading out of the rootfs (CVE-2021-30465).
// Instead every destination is opened as a descriptor with openat2's
// RESOLVE_IN_ROOT, which resolves symlinks and ".." as if the rootfs were
// "/", missing directories are made with mkdirat in such a descriptor,
// and mounts go onto /proc/self/fd/N of the opened target.

// maxSymlinks bounds symlink resolution, as the kernel's ELOOP does.
const maxSymlinks = 40

// errMountTargetMoved says a destination no longer led to the mount just
// made on it: something swapped a component meanwhile.
var errMountTargetMoved = errors.New("mount target changed while it was mounted on")

// rootDir is an open root filesystem in which paths resolve as if it were "/".
type rootDir struct {
	fd   int
	path string // for messages
}

// openRoot opens dir (a trusted host path) as the root to resolve in.
func openRoot(dir string) (*rootDir, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", dir, err)
	}
	return &rootDir{fd: fd, path: dir}, nil
}

func (r *rootDir) close() { unix.Close(r.fd) }

// open resolves p inside the root and opens it with flags (O_PATH and
// friends). Magic links (/proc/self/fd/N...) are refused: they lead
// anywhere. A final symlink is followed, inside the root, as mount does.
func (r *rootDir) open(p string, flags int) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for try := 0; ; try++ {
		fd, err := unix.Openat2(r.fd, p, how)
		// EAGAIN: a rename somewhere raced a ".." step; the kernel asks us to retry.
		if errors.Is(err, unix.EAGAIN) && try < 64 {
			continue
		}
		if err != nil {
			return -1, &pathError{op: "open", root: r.path, path: p, err: err}
		}
		return fd, nil
	}
}

// mkdirAll opens directory p inside the root, creating what is missing.
func (r *rootDir) mkdirAll(p string) (int, error) { return r.create(p, false) }

// createFile opens p inside the root, creating it as an empty file (and
// its parents as directories) if it is missing: the mount point of a file
// bind mount. An existing p is opened whatever it is.
func (r *rootDir) createFile(p string) (int, error) { return r.create(p, true) }

// create makes the first missing component of p, in a descriptor of its
// parent resolved inside the root, then starts over from the root, until
// p opens. A dangling symlink is replaced by its target (inside the root,
// as runc does). Every step is checked again from the root, so a component
// swapped meanwhile for a symlink can at worst move us elsewhere inside it.
func (r *rootDir) create(p string, file bool) (int, error) {
	p = filepath.Clean("/" + p)
	links := 0
	for try := 0; try < 4096; try++ {
		fd, err := r.open(p, unix.O_PATH)
		if err == nil {
			return fd, nil
		}
		if !errors.Is(err, unix.ENOENT) {
			return -1, err
		}
		parts := splitPath(p)
		// Find the deepest existing ancestor: its child parts[i] is missing.
		i := len(parts) - 1
		parent := -1
		for ; i >= 0; i-- {
			parent, err = r.open("/"+strings.Join(parts[:i], "/"), unix.O_PATH|unix.O_DIRECTORY)
			if err == nil {
				break
			}
			if !errors.Is(err, unix.ENOENT) {
				return -1, err
			}
		}
		if i < 0 {
			return -1, err
		}
		name, rest := parts[i], strings.Join(parts[i+1:], "/")
		if file && rest == "" {
			var nfd int
			nfd, err = unix.Openat(parent, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_RDONLY|unix.O_CLOEXEC, 0o644)
			if err == nil {
				unix.Close(nfd)
			}
		} else {
			err = unix.Mkdirat(parent, name, 0o755)
		}
		if errors.Is(err, unix.EEXIST) {
			// Either created meanwhile (then the next round opens it) or a
			// dangling symlink: continue with its target.
			target, lerr := readlinkat(parent, name)
			if lerr == nil {
				if links++; links > maxSymlinks {
					unix.Close(parent)
					return -1, &pathError{op: "create", root: r.path, path: p, err: unix.ELOOP}
				}
				if !filepath.IsAbs(target) {
					target = "/" + strings.Join(parts[:i], "/") + "/" + target
				}
				p = target + "/" + rest
			}
			err = nil
		}
		unix.Close(parent)
		if err != nil {
			return -1, &pathError{op: "create", root: r.path, path: "/" + strings.Join(parts[:i+1], "/"), err: err}
		}
	}
	return -1, &pathError{op: "create", root: r.path, path: p, err: errMountTargetMoved}
}

// splitPath returns the non-empty components of p, "." and ".." included.
func splitPath(p string) []string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return parts
}

func readlinkat(dirfd int, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// pathError names a path inside the root filesystem.
type pathError struct {
	op, root, path string
	err            error
}

func (e *pathError) Error() string {
	return fmt.Sprintf("%s %s in %s: %v", e.op, e.path, e.root, e.err)
}

func (e *pathError) Unwrap() error { return e.err }

// fdPath names an open descriptor for calls that only take paths, such as
// mount(2). The kernel follows the magic link to the very object opened,
// whatever happened to its path since.
func fdPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// checkProcfs makes sure /proc/self/fd is a procfs: the fd paths given to
// mount(2) must lead to our descriptors, not to an image's look-alike.
func checkProcfs() error {
	var st unix.Statfs_t
	if err := unix.Statfs("/proc/self/fd", &st); err != nil {
		return fmt.Errorf("mount by descriptor needs procfs at /proc: %w", err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("mount by descriptor needs procfs at /proc, found filesystem type %#x", st.Type)
	}
	return nil
}

// mountTarget is an opened mount destination.
type mountTarget struct {
	fd   int
	name string              // the destination as the config says it, for messages
	open func() (int, error) // opens the destination again
	top  bool                // fd is already the root of the mount made on it
}

// openTarget opens dest inside the root as a mount point, creating it as a
// directory, or as a file when file is true, if it is missing.
func (r *rootDir) openTarget(dest string, file bool) (*mountTarget, error) {
	fd, err := r.create(dest, file)
	if err != nil {
		return nil, err
	}
	return &mountTarget{fd: fd, name: dest, open: func() (int, error) { return r.open(dest, unix.O_PATH) }}, nil
}

// path is what to give mount(2). It leads to the opened object itself,
// not to a mount made on it since: see mounted.
func (t *mountTarget) path() string { return fdPath(t.fd) }

func (t *mountTarget) close() {
	if t.fd >= 0 {
		unix.Close(t.fd)
		t.fd = -1
	}
}

// mounted moves the target to the mount just made on it, for a remount or
// a propagation change. The destination is opened again and must now be
// the root of a mount other than the one it was on before.
func (t *mountTarget) mounted() error {
	if t.top {
		return nil
	}
	before, err := mountID(t.fd)
	if err != nil {
		return err
	}
	fd, err := t.open()
	if err != nil {
		return err
	}
	var st unix.Statx_t
	err = unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st)
	if err != nil || st.Attributes&unix.STATX_ATTR_MOUNT_ROOT == 0 || st.Mnt_id == before {
		unix.Close(fd)
		if err == nil {
			err = errMountTargetMoved
		}
		return err
	}
	unix.Close(t.fd)
	t.fd, t.top = fd, true
	return nil
}

func mountID(fd int) (uint64, error) {
	var st unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
		return 0, fmt.Errorf("statx: %w", err)
	}
	return st.Mnt_id, nil
}
