package cgroupfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// writeFile writes one value to an existing cgroup file. A cgroup knob takes
// a whole value per write(2), so the value goes out in a single Write.
// The file is never created: a missing file means the kernel lacks the
// feature, and that must surface as an error, not as a stray plain file.
func writeFile(dir, name, value string) error {
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

// readFile returns a cgroup file's content without the trailing newline.
func readFile(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// fileExists reports whether a cgroup knob exists; the kernel shows only
// the files of features it has.
func fileExists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// readUint reads a file holding one number. "max" (v2's word for no limit)
// reads as 0 with unlimited set.
func readUint(dir, name string) (v uint64, unlimited bool, err error) {
	s, err := readFile(dir, name)
	if err != nil {
		return 0, false, err
	}
	if s == "max" {
		return 0, true, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("parse %s: %w", filepath.Join(dir, name), err)
	}
	return v, false, nil
}

// readKeyed reads a flat-keyed file of "key value" lines (cpu.stat,
// memory.events, memory.oom_control, ...). Lines whose value is not a
// number are skipped.
func readKeyed(dir, name string) (map[string]uint64, error) {
	s, err := readFile(dir, name)
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// isNotExist tells a missing file or directory apart from other failures.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
