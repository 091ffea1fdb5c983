package cgroupfs

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ResolvePath turns an OCI linux.cgroupsPath into the cleaned path this
// package works with:
//
//   - "" becomes "/<containerID>";
//   - an absolute path ("/a/b") is relative to each hierarchy's mount point;
//   - a relative path ("a/b") stays relative: Host.Group puts it below the
//     cgroup the calling process is in, separately in every hierarchy.
//
// "." components are dropped and ".." components are applied, but a ".."
// may never climb above the starting point (the mount point, or the
// caller's own cgroup): such a path escapes the place it names and is an
// error, as is a path that names the starting point itself, an empty
// component ("a//b") and a NUL byte. Errors wrap ErrInvalidPath.
func ResolvePath(cgroupsPath, containerID string) (string, error) {
	if err := checkContainerID(containerID); err != nil {
		return "", err
	}
	if cgroupsPath == "" {
		return "/" + containerID, nil
	}
	return cleanPath(cgroupsPath)
}

func checkContainerID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container ID: %w: empty", ErrInvalidPath)
	case strings.ContainsRune(id, 0):
		return fmt.Errorf("container ID %q: %w: contains NUL", id, ErrInvalidPath)
	case strings.Contains(id, "/") || id == "." || id == "..":
		return fmt.Errorf("container ID %q: %w: must be a single path component", id, ErrInvalidPath)
	}
	return nil
}

// cleanPath checks and cleans an absolute or relative cgroup path.
func cleanPath(p string) (string, error) {
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("cgroups path %q: %w: contains NUL", p, ErrInvalidPath)
	}
	abs := strings.HasPrefix(p, "/")
	rest := strings.TrimPrefix(p, "/")
	if rest == "" {
		return "", fmt.Errorf("cgroups path %q: %w: names no cgroup below its starting point", p, ErrInvalidPath)
	}
	// filepath.Clean would silently turn "/../x" into "/x"; walking the
	// components ourselves lets an escape be an error instead.
	var kept []string
	for _, c := range strings.Split(rest, "/") {
		switch c {
		case "":
			return "", fmt.Errorf("cgroups path %q: %w: empty path component", p, ErrInvalidPath)
		case ".":
		case "..":
			if len(kept) == 0 {
				return "", fmt.Errorf("cgroups path %q: %w: escapes the cgroup hierarchy", p, ErrInvalidPath)
			}
			kept = kept[:len(kept)-1]
		default:
			kept = append(kept, c)
		}
	}
	if len(kept) == 0 {
		return "", fmt.Errorf("cgroups path %q: %w: names no cgroup below its starting point", p, ErrInvalidPath)
	}
	joined := strings.Join(kept, "/")
	if abs {
		return "/" + joined, nil
	}
	return joined, nil
}

// dirIn is the directory of cgroup path p (already cleaned) in hierarchy h.
func dirIn(h *hierarchy, p string) string {
	if strings.HasPrefix(p, "/") {
		return filepath.Join(h.mountpoint, p)
	}
	return filepath.Join(h.mountpoint, h.self, p)
}
