package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// A container's shim.lock tells whether a shim of it is alive, without a
// message from the shim: the daemon takes the lock (flock) before it
// launches the shim and hands the locked descriptor to it (cmshim
// --lock-fd), so from the fork on, the shim holds it until it exits, even
// if the daemon dies at any point in between. After a restart, a container
// still CREATING whose lock is free has no shim and never will: it is
// launched again rather than waited for until it is LOST.
const shimLockFile = "shim.lock"

// errShimAlive means a shim of the container holds its lock.
var errShimAlive = errors.New("a shim of the container is alive")

// lockShim takes the container's shim lock, or returns errShimAlive.
func lockShim(containerDir string) (*os.File, error) {
	path := filepath.Join(containerDir, shimLockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errShimAlive
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}
