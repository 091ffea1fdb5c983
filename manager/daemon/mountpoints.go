package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mountpointsFile, in a container's bundle directory, names the
// directories the runtime is about to create in a user's rootfs as mount
// points (/proc, /dev, /sys when the image lacks them). They would
// outlive the container, so rm removes them again, if still empty.
const mountpointsFile = "mountpoints.json"

// madeMountpoints is the content of mountpointsFile.
type madeMountpoints struct {
	Rootfs string   `json:"rootfs"` // the rootfs, symlinks resolved
	Dirs   []string `json:"dirs"`   // relative to Rootfs
}

// missingMountpoints lists, for each mount destination, the first
// component that does not exist in rootfs: the runtime makes it, and
// whatever is below it lies in the mounted filesystem or in it.
func missingMountpoints(rootfs string, mounts []specs.Mount) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range mounts {
		rel := ""
		for _, c := range strings.Split(strings.Trim(filepath.Clean("/"+m.Destination), "/"), "/") {
			if c == "" {
				break
			}
			rel = filepath.Join(rel, c)
			fi, err := os.Lstat(filepath.Join(rootfs, rel))
			if errors.Is(err, fs.ErrNotExist) {
				if !seen[rel] {
					seen[rel] = true
					out = append(out, rel)
				}
				break
			}
			// A symlink or a file: the runtime resolves it inside the
			// rootfs; what it makes there is not ours to guess.
			if err != nil || !fi.IsDir() {
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// recordMountpoints writes mountpointsFile into the bundle directory.
func recordMountpoints(dir string, spec *specs.Spec) error {
	rootfs, err := filepath.EvalSymlinks(spec.Root.Path)
	if err != nil {
		return nil // no rootfs, no mount points: the runtime reports it
	}
	data, err := json.Marshal(madeMountpoints{Rootfs: rootfs, Dirs: missingMountpoints(rootfs, spec.Mounts)})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, mountpointsFile)
	if _, err := os.Stat(path); err == nil {
		return nil // the first write saw the rootfs before any runtime made mount points in it
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readMountpoints reads a bundle's mountpointsFile; none means nothing made.
func readMountpoints(dir string) madeMountpoints {
	var m madeMountpoints
	if data, err := os.ReadFile(filepath.Join(dir, mountpointsFile)); err == nil {
		json.Unmarshal(data, &m)
	}
	return m
}

// removeMountpoints removes the recorded directories that are still
// empty (a directory holding only empty directories counts as empty).
func removeMountpoints(m madeMountpoints) {
	if m.Rootfs == "" {
		return
	}
	for _, rel := range m.Dirs {
		if !filepath.IsLocal(rel) {
			continue
		}
		removeEmptyTree(filepath.Join(m.Rootfs, rel))
	}
}

// removeEmptyTree removes dir and the directories below it, bottom up,
// if none of them holds anything else. It reports whether dir is gone.
func removeEmptyTree(dir string) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	empty := true
	for _, e := range entries {
		if !e.IsDir() || !removeEmptyTree(filepath.Join(dir, e.Name())) {
			empty = false
		}
	}
	return empty && os.Remove(dir) == nil
}

// removeMountpoints undoes the mount points made for a container that no
// longer exists. While another container of ours uses the same rootfs
// they stay (removing a directory that is a mount point in its mount
// namespace would unmount it there) and that container's rm removes them.
func (d *Daemon) removeMountpoints(e *entry) {
	m := readMountpoints(d.bundleDir(e.ID))
	if len(m.Dirs) == 0 {
		return
	}
	for _, other := range d.table.List() {
		if other == e {
			continue
		}
		dir := d.bundleDir(other.ID)
		if o := readMountpoints(dir); o.Rootfs == m.Rootfs {
			o.Dirs = append(o.Dirs, m.Dirs...)
			if data, err := json.Marshal(o); err == nil {
				os.WriteFile(filepath.Join(dir, mountpointsFile), data, 0o600)
			}
			return
		}
	}
	removeMountpoints(m)
}
