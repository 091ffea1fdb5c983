package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Memory is what the kernel says a running process holds, in KiB.
type Memory struct {
	RSS  int64 // VmRSS: resident pages, shared ones counted in full
	Anon int64 // RssAnon: resident pages that are the process's own
	Pss  int64 // Pss: shared pages divided among the processes that map them
}

// ProcMemory reads pid's memory from /proc/PID/status and smaps_rollup.
func ProcMemory(pid int) (Memory, error) {
	var m Memory
	status, err := procFields(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	rollup, err := procFields(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	m.RSS, m.Anon, m.Pss = status["VmRSS"], status["RssAnon"], rollup["Pss"]
	if m.RSS == 0 {
		return m, fmt.Errorf("memory of pid %d: no VmRSS in its status", pid)
	}
	return m, nil
}

// procFields reads the "Name: N kB" lines of a /proc file.
func procFields(path string) (map[string]int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if kb, found := strings.CutSuffix(strings.TrimSpace(value), " kB"); ok && found {
			if n, err := strconv.ParseInt(strings.TrimSpace(kb), 10, 64); err == nil {
				out[name] = n
			}
		}
	}
	return out, nil
}
