package cgroupfs

import "path/filepath"

// Entry names the files through which a new process puts itself into a
// group without the system-wide lock that a pid written to cgroup.procs
// takes (its first writer after a quiet spell waits for an RCU grace
// period, several milliseconds):
//   - in a v1 hierarchy, a single-threaded process writes "0" to the
//     group's "tasks" file, which moves only the calling thread;
//   - in the v2 hierarchy, clone3(CLONE_INTO_CGROUP) creates the child
//     in the group's directory.
//
// The container init's C preamble (package nsexec) does both; Add is the
// way for any other process.
type Entry struct {
	// Tasks holds one "tasks" file per v1 hierarchy.
	Tasks []string
	// Unified is the group's cgroup v2 directory, "" without one.
	Unified string
}

func (g *group) Entry() Entry {
	var e Entry
	for _, d := range g.dirs {
		if d.h.v2 {
			e.Unified = d.dir
		} else {
			e.Tasks = append(e.Tasks, filepath.Join(d.dir, "tasks"))
		}
	}
	return e
}
