package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ProcTable is a snapshot of which process is whose parent, read once
// from /proc so that counting the trees of thousands of containers does
// not scan /proc thousands of times.
type ProcTable struct {
	children map[int][]int
}

// ReadProcTable reads every process's parent from /proc/PID/stat.
// Processes that exit while it reads are skipped.
func ReadProcTable() (ProcTable, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return ProcTable{}, fmt.Errorf("read /proc: %w", err)
	}
	t := ProcTable{children: map[int][]int{}}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, err := parentOf(pid)
		if err != nil {
			continue // gone meanwhile
		}
		t.children[ppid] = append(t.children[ppid], pid)
	}
	return t, nil
}

// parentOf reads the ppid from /proc/PID/stat; the command name before
// it is in parentheses and may hold spaces, so fields count from its end.
func parentOf(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 2 {
		return 0, fmt.Errorf("parse /proc/%d/stat: too few fields", pid)
	}
	return strconv.Atoi(fields[1])
}

// Tree returns roots and every process descended from them, each once.
func (t ProcTable) Tree(roots ...int) []int {
	seen := map[int]bool{}
	var out []int
	queue := append([]int(nil), roots...)
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if pid <= 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		out = append(out, pid)
		queue = append(queue, t.children[pid]...)
	}
	return out
}

// Threads counts the tasks (threads) of pid, from /proc/PID/task.
func Threads(pid int) (int, error) {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, fmt.Errorf("threads of pid %d: %w", pid, err)
	}
	return len(entries), nil
}

// TreeThreads counts the tasks of roots and of all their descendants:
// for a container, its shim and everything the shim started, program
// included.
func (t ProcTable) TreeThreads(roots ...int) (int, error) {
	total := 0
	for _, pid := range t.Tree(roots...) {
		n, err := Threads(pid)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
