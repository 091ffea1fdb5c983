package managed

import (
	"context"
	"fmt"
	"slices"

	"cm/bench"
)

// Footprint is what running containers cost, one value per container.
type Footprint struct {
	// Tasks are the threads of each container's shim and of everything the
	// shim started, the container's program included.
	Tasks                      []int
	ShimRSS, ShimAnon, ShimPss []int64 // KiB, of each shim
	ShimPids                   []int
	DaemonRSS                  int64 // KiB
}

// Measure reads the footprint of the containers ids, which must all be
// running, and of the daemon. One listing and one /proc snapshot serve
// them all, so it stays quick with thousands of containers.
func (d *Daemon) Measure(ctx context.Context, ids []string) (Footprint, error) {
	var f Footprint
	list, err := d.Client.List(ctx)
	if err != nil {
		return f, fmt.Errorf("list containers: %w", err)
	}
	table, err := bench.ReadProcTable()
	if err != nil {
		return f, err
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	for _, c := range list {
		if !want[c.ID] {
			continue
		}
		if c.ShimPid <= 0 || c.Pid <= 0 {
			return f, fmt.Errorf("container %s (%s) has no shim or program pid", c.ID, c.State)
		}
		tasks, err := table.TreeThreads(c.ShimPid, c.Pid)
		if err != nil {
			return f, fmt.Errorf("tasks of container %s: %w", c.ID, err)
		}
		m, err := bench.ProcMemory(c.ShimPid)
		if err != nil {
			return f, fmt.Errorf("memory of the shim of %s: %w", c.ID, err)
		}
		f.Tasks = append(f.Tasks, tasks)
		f.ShimRSS = append(f.ShimRSS, m.RSS)
		f.ShimAnon = append(f.ShimAnon, m.Anon)
		f.ShimPss = append(f.ShimPss, m.Pss)
		f.ShimPids = append(f.ShimPids, c.ShimPid)
	}
	if len(f.Tasks) != len(ids) {
		return f, fmt.Errorf("the daemon lists %d of the %d containers", len(f.Tasks), len(ids))
	}
	m, err := bench.ProcMemory(d.Pid())
	if err != nil {
		return f, fmt.Errorf("memory of the daemon: %w", err)
	}
	f.DaemonRSS = m.RSS
	return f, nil
}

// Median returns the median of v (the upper one for an even count).
func Median[T int | int64](v []T) T {
	return bench.Percentile(slices.Sorted(slices.Values(v)), 50)
}

// Sum adds v up.
func Sum[T int | int64](v []T) T {
	var s T
	for _, x := range v {
		s += x
	}
	return s
}
