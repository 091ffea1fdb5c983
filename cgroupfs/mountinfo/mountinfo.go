// Package mountinfo reads /proc/PID/mountinfo, the kernel's list of a
// mount namespace's mounts (its format is in proc(5)):
//
//	ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPEROPTIONS
//
// It owns the parsing only; what to do with the mounts is its callers'
// business (package runtime unmounts, package cgroupfs finds hierarchies).
package mountinfo

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Mount is one line of mountinfo.
type Mount struct {
	Root    string   // the directory of the filesystem shown at Point
	Point   string   // where it is mounted
	FSType  string   // e.g. cgroup, proc, ext4
	Options []string // the superblock's options, e.g. rw and memory
}

// Parse reads every mount of a mountinfo file, paths unescaped.
func Parse(r io.Reader) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		// Optional tags sit between the sixth field and " - ".
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			return nil, fmt.Errorf("parse mountinfo line %q: no \" - \" separator", line)
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			return nil, fmt.Errorf("parse mountinfo line %q: too few fields", line)
		}
		out = append(out, Mount{Root: unescape(pf[3]), Point: unescape(pf[4]), FSType: qf[0], Options: strings.Split(qf[2], ",")})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return out, nil
}

// Thread reads the calling thread's mounts. The thread's, not the
// process's: /proc/self follows the main thread, which a program may have
// moved to a mount namespace of its own (package runtime's readonlyExe
// can leave it in one).
func Thread() ([]Mount, error) {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("list mounts: %w", err)
	}
	defer f.Close()
	return Parse(f)
}

// unescape undoes the kernel's \ooo escapes (a space is "\040").
func unescape(s string) string {
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

// Under reports whether path is dir or below it.
func Under(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, dir+"/")
}
