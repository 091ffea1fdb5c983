package cgroupfs

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Stats are a group's usage counters, printed by `cmrun events --stats`.
// Each part is read from whichever hierarchy holds its controller; a part
// whose controller is absent stays zero. A Limit of 0 means "no limit".
type Stats struct {
	Memory  MemoryStats             `json:"memory"`
	Pids    PidsStats               `json:"pids"`
	CPU     CPUStats                `json:"cpu"`
	IO      IOStats                 `json:"io"`
	Hugetlb map[string]HugetlbStats `json:"hugetlb,omitempty"` // by page size, e.g. "2MB"
}

// MemoryStats are in bytes, except the event counts.
type MemoryStats struct {
	Usage     uint64 `json:"usage"`
	MaxUsage  uint64 `json:"maxUsage"` // peak usage
	Limit     uint64 `json:"limit"`
	SwapUsage uint64 `json:"swapUsage"`
	Cache     uint64 `json:"cache"` // page cache
	// OOM counts the times the limit was hit and the OOM killer ran; only
	// cgroup v2 keeps this count, so it is 0 on v1.
	OOM uint64 `json:"oom"`
	// OOMKill counts processes the OOM killer killed.
	OOMKill uint64 `json:"oomKill"`
}

// PidsStats count tasks (threads included).
type PidsStats struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit"`
}

// CPUStats are in nanoseconds, except the period counts.
type CPUStats struct {
	UsageNanos       uint64 `json:"usageNanos"`
	UserNanos        uint64 `json:"userNanos"`
	SystemNanos      uint64 `json:"systemNanos"`
	Periods          uint64 `json:"periods"`          // quota periods that had runnable tasks
	ThrottledPeriods uint64 `json:"throttledPeriods"` // of those, periods that used up the quota
	ThrottledNanos   uint64 `json:"throttledNanos"`   // time spent throttled
}

// IOStats sum all block devices.
type IOStats struct {
	ReadBytes  uint64 `json:"readBytes"`
	WriteBytes uint64 `json:"writeBytes"`
	ReadOps    uint64 `json:"readOps"`
	WriteOps   uint64 `json:"writeOps"`
}

// HugetlbStats are for one page size, in bytes.
type HugetlbStats struct {
	Usage uint64 `json:"usage"`
	Limit uint64 `json:"limit"`
	// Failcnt counts allocations refused because of the limit.
	Failcnt uint64 `json:"failcnt"`
}

// v1's "unlimited" is the largest page-aligned int64, not -1; anything
// this large is no limit.
const v1Unlimited = 1 << 62

func (g *group) Stats() (*Stats, error) {
	if _, err := os.Stat(g.procsDir()); err != nil {
		return nil, fmt.Errorf("stats of cgroup %s: %w", g.path, err)
	}
	s := &Stats{}
	readers := []func(*Stats) error{g.memoryStats, g.pidsStats, g.cpuStats, g.ioStats, g.hugetlbStats}
	for _, read := range readers {
		if err := read(s); err != nil {
			return nil, fmt.Errorf("stats of cgroup %s: %w", g.path, err)
		}
	}
	return s, nil
}

// optional turns "this kernel has no such file" into a zero value.
func optional(v uint64, _ bool, err error) (uint64, error) {
	if isNotExist(err) {
		return 0, nil
	}
	return v, err
}

// limitValue normalises a limit read from either version to 0 = none.
func limitValue(v uint64, unlimited bool, err error) (uint64, error) {
	if isNotExist(err) || unlimited || v >= v1Unlimited {
		return 0, nil
	}
	return v, err
}

func (g *group) memoryStats(s *Stats) error {
	d, ok := g.dirOf("memory")
	if !ok {
		return nil
	}
	m := &s.Memory
	var err error
	if d.h.v2 {
		if m.Usage, err = optional(readUint(d.dir, "memory.current")); err != nil {
			return err
		}
		if m.MaxUsage, err = optional(readUint(d.dir, "memory.peak")); err != nil {
			return err
		}
		if m.Limit, err = limitValue(readUint(d.dir, "memory.max")); err != nil {
			return err
		}
		if m.SwapUsage, err = optional(readUint(d.dir, "memory.swap.current")); err != nil {
			return err
		}
		stat, err := readKeyed(d.dir, "memory.stat")
		if err != nil {
			return err
		}
		m.Cache = stat["file"]
		events, err := readKeyed(d.dir, "memory.events")
		if err != nil {
			return err
		}
		m.OOM, m.OOMKill = events["oom"], events["oom_kill"]
		return nil
	}
	if m.Usage, err = optional(readUint(d.dir, "memory.usage_in_bytes")); err != nil {
		return err
	}
	if m.MaxUsage, err = optional(readUint(d.dir, "memory.max_usage_in_bytes")); err != nil {
		return err
	}
	if m.Limit, err = limitValue(readUint(d.dir, "memory.limit_in_bytes")); err != nil {
		return err
	}
	// memsw counts memory plus swap; swap alone is the difference.
	memsw, err := optional(readUint(d.dir, "memory.memsw.usage_in_bytes"))
	if err != nil {
		return err
	}
	if memsw > m.Usage {
		m.SwapUsage = memsw - m.Usage
	}
	stat, err := readKeyed(d.dir, "memory.stat")
	if err != nil {
		return err
	}
	m.Cache = stat["total_cache"]
	oom, err := readKeyed(d.dir, "memory.oom_control")
	if err != nil {
		return err
	}
	m.OOMKill = oom["oom_kill"]
	return nil
}

func (g *group) pidsStats(s *Stats) error {
	d, ok := g.dirOf("pids")
	if !ok {
		return nil
	}
	var err error
	if s.Pids.Current, err = optional(readUint(d.dir, "pids.current")); err != nil {
		return err
	}
	s.Pids.Limit, err = limitValue(readUint(d.dir, "pids.max"))
	return err
}

func (g *group) cpuStats(s *Stats) error {
	c := &s.CPU
	// Usage: v1's cpuacct controller, or v2's cpu.stat, which every v2
	// cgroup has even without the cpu controller.
	if d, ok := g.dirOf("cpuacct"); ok && !d.h.v2 {
		var err error
		if c.UsageNanos, err = optional(readUint(d.dir, "cpuacct.usage")); err != nil {
			return err
		}
		if c.UserNanos, err = optional(readUint(d.dir, "cpuacct.usage_user")); err != nil {
			return err
		}
		if c.SystemNanos, err = optional(readUint(d.dir, "cpuacct.usage_sys")); err != nil {
			return err
		}
	} else if dir, ok := g.unifiedDir(); ok {
		stat, err := readKeyed(dir, "cpu.stat")
		if err != nil {
			return err
		}
		c.UsageNanos = stat["usage_usec"] * 1000
		c.UserNanos = stat["user_usec"] * 1000
		c.SystemNanos = stat["system_usec"] * 1000
	}
	// Throttling: the cpu controller's cpu.stat, in either version.
	d, ok := g.dirOf("cpu")
	if !ok {
		return nil
	}
	stat, err := readKeyed(d.dir, "cpu.stat")
	if err != nil {
		return err
	}
	c.Periods, c.ThrottledPeriods = stat["nr_periods"], stat["nr_throttled"]
	if d.h.v2 {
		c.ThrottledNanos = stat["throttled_usec"] * 1000
	} else {
		c.ThrottledNanos = stat["throttled_time"]
	}
	return nil
}

func (g *group) ioStats(s *Stats) error {
	if d, ok := g.dirOf("blkio"); ok {
		// The throttle files count every bio, whatever the I/O scheduler.
		bytes, err := readBlkioOps(d.dir, "blkio.throttle.io_service_bytes_recursive")
		if err != nil {
			return err
		}
		ops, err := readBlkioOps(d.dir, "blkio.throttle.io_serviced_recursive")
		if err != nil {
			return err
		}
		s.IO = IOStats{ReadBytes: bytes["Read"], WriteBytes: bytes["Write"], ReadOps: ops["Read"], WriteOps: ops["Write"]}
		return nil
	}
	d, ok := g.dirOf("io")
	if !ok {
		return nil
	}
	text, err := readFile(d.dir, "io.stat")
	if err != nil {
		return err
	}
	// One line per device: "254:0 rbytes=1 wbytes=2 rios=3 wios=4 ...".
	for _, line := range strings.Split(text, "\n") {
		for _, kv := range strings.Fields(line) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			switch k {
			case "rbytes":
				s.IO.ReadBytes += n
			case "wbytes":
				s.IO.WriteBytes += n
			case "rios":
				s.IO.ReadOps += n
			case "wios":
				s.IO.WriteOps += n
			}
		}
	}
	return nil
}

// readBlkioOps sums a v1 blkio file of "MAJ:MIN Op VALUE" lines by Op
// (Read, Write, ...). The "Total" line has no device and is skipped.
func readBlkioOps(dir, name string) (map[string]uint64, error) {
	text, err := readFile(dir, name)
	if isNotExist(err) {
		return map[string]uint64{}, nil
	}
	if err != nil {
		return nil, err
	}
	sums := map[string]uint64{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			continue
		}
		sums[f[1]] += n
	}
	return sums, nil
}

func (g *group) hugetlbStats(s *Stats) error {
	d, ok := g.dirOf("hugetlb")
	if !ok {
		return nil
	}
	usageSuffix, limitSuffix, failFile := ".usage_in_bytes", ".limit_in_bytes", ".failcnt"
	if d.h.v2 {
		usageSuffix, limitSuffix, failFile = ".current", ".max", ".events"
	}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		// Page sizes show up as hugetlb.<size>.<limit file>; the rsvd
		// files would also match, so they are excluded.
		name := e.Name()
		size, ok := strings.CutPrefix(name, "hugetlb.")
		if !ok || !strings.HasSuffix(size, limitSuffix) || strings.Contains(size, ".rsvd.") {
			continue
		}
		size = strings.TrimSuffix(size, limitSuffix)
		prefix := "hugetlb." + size
		var h HugetlbStats
		if h.Usage, err = optional(readUint(d.dir, prefix+usageSuffix)); err != nil {
			return err
		}
		if h.Limit, err = limitValue(readUint(d.dir, prefix+limitSuffix)); err != nil {
			return err
		}
		if d.h.v2 {
			ev, err := readKeyed(d.dir, prefix+failFile)
			if err != nil && !isNotExist(err) {
				return err
			}
			h.Failcnt = ev["max"]
		} else if h.Failcnt, err = optional(readUint(d.dir, prefix+failFile)); err != nil {
			return err
		}
		if s.Hugetlb == nil {
			s.Hugetlb = map[string]HugetlbStats{}
		}
		s.Hugetlb[size] = h
	}
	return nil
}

func (g *group) OOMKillCount() (uint64, error) {
	d, ok := g.dirOf("memory")
	if !ok {
		return 0, fmt.Errorf("OOM kill count of cgroup %s: memory controller %w", g.path, ErrUnavailable)
	}
	file := "memory.oom_control"
	if d.h.v2 {
		// memory.events counts the group and its descendants.
		file = "memory.events"
	}
	ev, err := readKeyed(d.dir, file)
	if err != nil {
		return 0, fmt.Errorf("OOM kill count of cgroup %s: %w", g.path, err)
	}
	return ev["oom_kill"], nil
}
