package runtime

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so readers (podman waits for the pid file) never
// see a partial file. The directory may belong to someone else (a pid file
// in a user's directory or /tmp): the temporary name is random, and it is
// created O_EXCL|O_NOFOLLOW, so a symlink planted there is never followed;
// the rename replaces a symlink at path itself instead of writing through it.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	var tmp string
	var fd int
	for attempt := 0; ; attempt++ {
		var rnd [8]byte
		// getrandom(2) straight: crypto/rand would link Go's whole FIPS
		// module into cmrun, a quarter of a megabyte every run maps.
		if _, err := unix.Getrandom(rnd[:], 0); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		tmp = filepath.Join(dir, "."+base+"."+hex.EncodeToString(rnd[:]))
		var err error
		fd, err = unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm))
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) || attempt == 10 {
			return fmt.Errorf("create %s: %w", tmp, err)
		}
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err := f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
