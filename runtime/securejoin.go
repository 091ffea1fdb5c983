package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxSymlinks bounds symlink resolution, as the kernel's ELOOP does.
const maxSymlinks = 255

// secureJoin resolves path inside root as if root were "/": ".." stops at
// root and symlinks (even absolute ones) are followed inside root. A
// mount destination in a hostile image can therefore never point at the
// host. Components that do not exist yet are kept as they are.
func secureJoin(root, path string) (string, error) {
	var resolved string // relative to root, always clean and without ".."
	remaining := filepath.Clean("/" + path)
	links := 0
	for remaining != "" {
		var part string
		remaining = strings.TrimPrefix(remaining, "/")
		part, remaining, _ = strings.Cut(remaining, "/")
		if remaining != "" {
			remaining = "/" + remaining
		}
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir("/" + resolved)[1:]
			continue
		}
		next := filepath.Join(resolved, part)
		fi, err := os.Lstat(filepath.Join(root, next))
		if errors.Is(err, os.ErrNotExist) {
			resolved = next
			continue
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &os.PathError{Op: "resolve", Path: path, Err: syscall.ELOOP}
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			resolved = ""
		}
		remaining = "/" + target + remaining
	}
	return filepath.Join(root, resolved), nil
}
