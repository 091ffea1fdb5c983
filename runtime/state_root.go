package runtime

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// UnsafeDirError is a state directory another user could write: whoever
// can write the state root can forge a container's state (and so choose
// what delete kills) or plant a compiled seccomp filter. runc creates its
// root 0700 but uses a pre-existing one as it finds it; cmrun refuses it.
type UnsafeDirError struct {
	Kind string // "state root", "container state directory", "seccomp cache"
	Path string
	UID  uint32 // the directory's owner
	Mode uint32 // its permission bits
	Want int    // the euid that must own it
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("%s %s is owned by uid %d with mode %04o: it must be owned by uid %d and writable by it alone",
		e.Kind, e.Path, e.UID, e.Mode, e.Want)
}

// Unwrap lets callers test for ErrUnsafeDir.
func (e *UnsafeDirError) Unwrap() error { return ErrUnsafeDir }

// checkPrivateDir refuses a directory that is not owned by the euid or
// that group or others may write. A missing directory is returned as
// os.ErrNotExist for the caller to judge.
func checkPrivateDir(kind, path string) error {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return fmt.Errorf("%s %s is not a directory", kind, path)
	}
	euid := os.Geteuid()
	if int(st.Uid) != euid || st.Mode&0o022 != 0 {
		return &UnsafeDirError{Kind: kind, Path: path, UID: st.Uid, Mode: st.Mode & 0o7777, Want: euid}
	}
	return nil
}

// checkStateRoot checks the state root if it exists; a root that does
// not exist yet holds no state to distrust.
func checkStateRoot(root string) error {
	if err := checkPrivateDir("state root", root); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// makeStateRoot creates the state root if needed (0700, as runc does)
// and checks it: it may have been made by someone else just before.
func makeStateRoot(root string) error {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return fmt.Errorf("create state root %s: %w", root, err)
	}
	return checkPrivateDir("state root", root)
}
