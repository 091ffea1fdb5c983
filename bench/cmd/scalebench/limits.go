package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pidMaxPath is the sysctl kernel.pid_max: every task, thread or
// process, needs an id below it.
const pidMaxPath = "/proc/sys/kernel/pid_max"

// limits are the system limits that bound how many containers run at once.
type limits struct {
	pidMax, threadsMax int   // kernel.pid_max and kernel.threads-max
	tasksNow           int   // tasks on the machine before the run
	nofile             int   // the daemon's descriptor limit (the hard limit it inherits; Go raises the soft one to it)
	pidsMax            int   // pids.max of our own pids cgroup; 0: no limit
	memAvailKiB        int64 // MemAvailable
}

// readLimits reads the limits and how many tasks already run.
func readLimits() (limits, error) {
	var l limits
	var err error
	if l.pidMax, err = readInt(pidMaxPath); err != nil {
		return l, err
	}
	if l.threadsMax, err = readInt("/proc/sys/kernel/threads-max"); err != nil {
		return l, err
	}
	if l.tasksNow, err = countTasks(); err != nil {
		return l, err
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return l, fmt.Errorf("descriptor limit: %w", err)
	}
	l.nofile = int(min(rl.Max, 1<<30))
	l.pidsMax = ownPidsMax()
	l.memAvailKiB = memAvailable()
	return l, nil
}

// perContainer is what one running container takes, from a probe.
type perContainer struct {
	tasks     int   // its shim's and program's tasks
	daemonFDs int   // descriptors the daemon holds for it
	memKiB    int64 // its shim's anonymous memory: a lower bound, the kernel's share is not in it
}

// fit says how many containers the limits leave room for, and which
// limit binds first.
func (l limits) fit(per perContainer) (n int, binding string) {
	// Keep a tenth of the free ids for everything else on the machine
	// (other users, the daemon's own threads, cmctl).
	free := func(max, used int) int { return (max - used) * 9 / 10 }
	n, binding = free(l.pidMax, l.tasksNow)/max(per.tasks, 1), fmt.Sprintf("kernel.pid_max %d", l.pidMax)
	if m := free(l.threadsMax, l.tasksNow) / max(per.tasks, 1); m < n {
		n, binding = m, fmt.Sprintf("kernel.threads-max %d", l.threadsMax)
	}
	if m := free(l.nofile, 64) / max(per.daemonFDs, 1); m < n {
		n, binding = m, fmt.Sprintf("the daemon's descriptor limit %d", l.nofile)
	}
	if l.pidsMax > 0 {
		if m := free(l.pidsMax, 0) / max(per.tasks, 1); m < n {
			n, binding = m, fmt.Sprintf("pids.max %d of our cgroup", l.pidsMax)
		}
	}
	if per.memKiB > 0 && l.memAvailKiB > 0 {
		if m := int(l.memAvailKiB * 8 / 10 / per.memKiB); m < n {
			n, binding = m, fmt.Sprintf("MemAvailable %d MiB", l.memAvailKiB/1024)
		}
	}
	return max(n, 0), binding
}

// setPidMax writes kernel.pid_max.
func setPidMax(v int) error {
	if err := os.WriteFile(pidMaxPath, []byte(strconv.Itoa(v)), 0o644); err != nil {
		return fmt.Errorf("set kernel.pid_max to %d: %w", v, err)
	}
	return nil
}

// countTasks counts every task on the machine.
func countTasks() (int, error) {
	procs, err := filepath.Glob("/proc/[0-9]*/task/[0-9]*")
	if err != nil {
		return 0, fmt.Errorf("count tasks: %w", err)
	}
	return len(procs), nil
}

// openFDs counts pid's open descriptors.
func openFDs(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, fmt.Errorf("descriptors of pid %d: %w", pid, err)
	}
	return len(entries), nil
}

// ownPidsMax reads pids.max of this process's v1 pids cgroup, or of its
// v2 cgroup; 0 when there is none or it says "max".
func ownPidsMax() int {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		var path string
		switch {
		case f[1] == "pids":
			path = filepath.Join("/sys/fs/cgroup/pids", f[2], "pids.max")
		case f[0] == "0" && f[1] == "":
			path = filepath.Join("/sys/fs/cgroup", f[2], "pids.max")
		default:
			continue
		}
		if n, err := readInt(path); err == nil {
			return n
		}
	}
	return 0
}

// memAvailable reads MemAvailable from /proc/meminfo, in KiB; 0 if unknown.
func memAvailable() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(rest, "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func readInt(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("parse %s: %w", path, err)
	}
	return n, nil
}
