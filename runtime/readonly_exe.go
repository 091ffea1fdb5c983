package runtime

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// The container init starts as the cmrun binary itself, and a process in
// the container can reach that binary through /proc/PID/exe (of the init,
// or of its own after an exec of /proc/self/exe). Opening it for writing
// would let a container overwrite cmrun on the host: CVE-2019-5736.
//
// cmrun therefore starts the init from a read-only bind mount of its own
// binary, made in a mount namespace private to one short-lived thread.
// /proc/PID/exe then names a file on a read-only mount and every write
// through it fails with EROFS, whatever the container's privileges. The
// mount disappears with the descriptor; nothing is left on the host.
// Chosen over a sealed memfd copy because it copies nothing: a bind mount
// costs a few system calls, a copy of this binary megabytes per container.
//
// Where the kernel has the mount API (open_tree 5.2, mount_setattr 5.12)
// the bind mount is a detached one, made read-only before anyone can
// reach it and never attached to any namespace: no thread has to be
// locked and given a copy of the host's mount namespace for it.

// readonlyExe returns an O_PATH descriptor of the running binary, reached
// through a read-only bind mount.
func readonlyExe() (*os.File, error) {
	f, err := detachedReadonlyExe()
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, unix.ENOSYS) {
		return nil, fmt.Errorf("protect the cmrun binary: %w", err)
	}
	return namespacedReadonlyExe()
}

// detachedReadonlyExe clones the mount of the running binary, as a
// detached bind mount of that one file, and makes it read-only. It is
// reached through /proc/self/exe, not by its path: the file at that path
// may have been replaced since we started (an upgrade), and the init must
// be this very binary, which works even once its path is gone.
func detachedReadonlyExe() (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("open_tree %s: %w", exe, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("make the bind mount of %s read-only: %w", exe, err)
	}
	return os.NewFile(uintptr(fd), exe), nil
}

// namespacedReadonlyExe is the way for kernels without the mount API: a
// bind mount in a mount namespace of a thread that then ends.
func namespacedReadonlyExe() (*os.File, error) {
	var (
		f   *os.File
		err error
	)
	// The thread gets a private mount namespace and is never given back
	// to the Go scheduler: it ends, and the namespace with it.
	onThrowawayThread(func() { f, err = bindReadonly() })
	if err != nil {
		return nil, fmt.Errorf("protect the cmrun binary: %w", err)
	}
	return f, nil
}

// onThrowawayThread runs fn on a thread of its own, which ends with it.
// Not on the main thread: the runtime cannot end that one and would park
// it for good instead, a thread lost for the life of a long-lived caller
// (cmshim). There the goroutine holds the main thread, so that the one it
// starts runs elsewhere.
func onThrowawayThread(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		goruntime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			onThrowawayThread(fn)
			goruntime.UnlockOSThread()
			return
		}
		fn() // returns still locked: the thread ends
	}()
	<-done
}

func bindReadonly() (*os.File, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	if err := unix.Unshare(unix.CLONE_FS | unix.CLONE_NEWNS); err != nil {
		return nil, fmt.Errorf("unshare mount namespace: %w", err)
	}
	// Our mounts must not propagate back to the host's namespace.
	if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return nil, fmt.Errorf("make / a slave: %w", err)
	}
	if err := unix.Mount(exe, exe, "", unix.MS_BIND, ""); err != nil {
		return nil, fmt.Errorf("bind %s: %w", exe, err)
	}
	if err := unix.Mount("", exe, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		return nil, fmt.Errorf("remount %s read-only: %w", exe, err)
	}
	return os.OpenFile(exe, unix.O_PATH|unix.O_CLOEXEC, 0)
}
