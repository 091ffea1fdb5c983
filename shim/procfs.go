package shim

import (
	"os"
	"strconv"
	"strings"
)

// vmRSS is this process's resident memory in kB (VmRSS in
// /proc/self/status), logged after create: what the shim costs the host
// while it waits. 0 if it cannot be read.
func vmRSS() int {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kb
		}
	}
	return 0
}
