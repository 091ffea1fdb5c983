package runtime

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// mountEntry is one line of a mountinfo file (proc(5) documents the format).
type mountEntry struct {
	point   string // where it is mounted, unescaped
	fstype  string // e.g. cgroup, proc, ext4
	options string // the superblock's options, e.g. "rw,memory"
}

// readMountinfo lists the calling thread's mounts. The thread's, not the
// process's: /proc/self follows the main thread, which may be the one
// readonlyExe left in a private mount namespace.
func readMountinfo() ([]mountEntry, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Optional fields sit between the fifth field and " - ".
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		out = append(out, mountEntry{point: unescapeMountPath(pf[4]), fstype: qf[0], options: qf[2]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	return out, nil
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

// isUnder reports whether path is dir or below it.
func isUnder(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
