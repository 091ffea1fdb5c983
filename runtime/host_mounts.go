package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A container without a mount namespace of its own builds its root
// filesystem in the host's: the bind of the rootfs onto itself, /proc,
// /dev and the rest stay mounted there after the container is gone, as
// nothing else will remove them. Delete does, with unmountUnder.

// sharesHostMounts reports whether a config leaves the container in the
// runtime's mount namespace.
func sharesHostMounts(s *specs.Spec) bool {
	return s != nil && s.Linux != nil && findNamespace(s, specs.MountNamespace) == nil
}

// unmountUnder detaches every mount at or below dir in our mount
// namespace, deepest first so a parent never hides a child.
func unmountUnder(dir string) error {
	points, err := mountPointsUnder(dir)
	if err != nil {
		return err
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		// EINVAL: already gone with a parent (a recursive bind).
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount %s: %w", p, err)
		}
	}
	return nil
}

// mountPointsUnder lists the mount points at or below dir, from
// mountinfo (the fifth field, with spaces and the like octal-escaped).
// The calling thread's: /proc/self follows the main thread, which may be
// the one readonlyExe left in a private mount namespace.
func mountPointsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMountPath(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	return points, nil
}

// unescapeMountPath undoes the kernel's \ooo escapes of mountinfo.
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
