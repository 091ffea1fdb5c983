package cgroupfs

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// This file writes OCI resources with cgroup v1 file names. v1 limit files
// take -1 for "unlimited", the same convention OCI uses, so most values
// are written as they are.

func applyV1Memory(dir string, m *specs.LinuxMemory) ([]string, error) {
	var warnings []string
	if m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && m.Limit != nil && *m.Limit > 0 {
		if err := checkNotBelowUsage(dir, "memory.usage_in_bytes", *m.Limit); err != nil {
			return nil, err
		}
	}
	if m.Swap != nil && !fileExists(dir, "memory.memsw.limit_in_bytes") {
		return nil, unavailable("memory.swap", "swap accounting is off in this kernel (no memory.memsw.limit_in_bytes)")
	}
	switch {
	case m.Limit != nil && m.Swap != nil:
		// The kernel keeps memory.limit <= memory.memsw.limit after every
		// single write, so raising both must start with memsw and
		// lowering both with the memory limit.
		if err := writePair(dir, "memory.limit_in_bytes", i64(*m.Limit), "memory.memsw.limit_in_bytes", i64(*m.Swap)); err != nil {
			return nil, err
		}
	case m.Limit != nil:
		if err := writeFile(dir, "memory.limit_in_bytes", i64(*m.Limit)); err != nil {
			return nil, err
		}
	case m.Swap != nil:
		if err := writeFile(dir, "memory.memsw.limit_in_bytes", i64(*m.Swap)); err != nil {
			return nil, err
		}
	}
	if m.Reservation != nil {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", i64(*m.Reservation)); err != nil {
			return nil, err
		}
	}
	if m.Kernel != nil {
		// Kernel memory limits were removed from the kernel (5.4 on, and
		// the file rejects writes since 6.x); the spec lets runtimes
		// ignore them.
		warnings = append(warnings, "linux.resources.memory.kernel: deprecated and ignored")
	}
	if m.KernelTCP != nil {
		if fileExists(dir, "memory.kmem.tcp.limit_in_bytes") {
			if err := writeFile(dir, "memory.kmem.tcp.limit_in_bytes", i64(*m.KernelTCP)); err != nil {
				return nil, err
			}
		} else {
			warnings = append(warnings, "linux.resources.memory.kernelTCP: not supported by this kernel, ignored")
		}
	}
	if m.Swappiness != nil {
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
			return nil, err
		}
	}
	if m.DisableOOMKiller != nil {
		if err := writeFile(dir, "memory.oom_control", boolDigit(*m.DisableOOMKiller)); err != nil {
			return nil, err
		}
	}
	if m.UseHierarchy != nil {
		err := writeFile(dir, "memory.use_hierarchy", boolDigit(*m.UseHierarchy))
		if err != nil && !*m.UseHierarchy && errors.Is(err, unix.EINVAL) {
			// Newer kernels are always hierarchical and refuse 0.
			warnings = append(warnings, "linux.resources.memory.useHierarchy: false is not supported by this kernel, ignored")
		} else if err != nil {
			return nil, err
		}
	}
	return warnings, nil
}

// checkNotBelowUsage implements memory.checkBeforeUpdate: refuse a limit
// below what the group already uses.
func checkNotBelowUsage(dir, usageFile string, limit int64) error {
	usage, _, err := readUint(dir, usageFile)
	if err != nil {
		return err
	}
	if uint64(limit) < usage {
		return invalid("memory.limit", "%d is below the current usage of %d bytes (checkBeforeUpdate is set)", limit, usage)
	}
	return nil
}

func applyV1CPU(dir string, c *specs.LinuxCPU) error {
	// cpu.shares cannot be written while cpu.idle is 1, so leaving idle
	// happens first and entering it last.
	if c.Idle != nil && *c.Idle == 0 {
		if err := writeFile(dir, "cpu.idle", "0"); err != nil {
			return err
		}
	}
	if c.Shares != nil {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(*c.Shares, 10)); err != nil {
			return err
		}
	}
	switch {
	case c.Period != nil && c.Quota != nil:
		if err := writePair(dir, "cpu.cfs_period_us", u64(*c.Period), "cpu.cfs_quota_us", i64(*c.Quota)); err != nil {
			return err
		}
	case c.Period != nil:
		if err := writeFile(dir, "cpu.cfs_period_us", u64(*c.Period)); err != nil {
			return err
		}
	case c.Quota != nil:
		if err := writeFile(dir, "cpu.cfs_quota_us", i64(*c.Quota)); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if !fileExists(dir, "cpu.cfs_burst_us") {
			return unavailable("cpu.burst", "not supported by this kernel (no cpu.cfs_burst_us)")
		}
		if err := writeFile(dir, "cpu.cfs_burst_us", u64(*c.Burst)); err != nil {
			return err
		}
	}
	if c.RealtimePeriod != nil || c.RealtimeRuntime != nil {
		if !fileExists(dir, "cpu.rt_runtime_us") {
			return unavailable("cpu.realtimeRuntime", "real-time group scheduling is not in this kernel (no cpu.rt_runtime_us)")
		}
	}
	switch {
	case c.RealtimePeriod != nil && c.RealtimeRuntime != nil:
		if err := writePair(dir, "cpu.rt_period_us", u64(*c.RealtimePeriod), "cpu.rt_runtime_us", i64(*c.RealtimeRuntime)); err != nil {
			return err
		}
	case c.RealtimePeriod != nil:
		if err := writeFile(dir, "cpu.rt_period_us", u64(*c.RealtimePeriod)); err != nil {
			return err
		}
	case c.RealtimeRuntime != nil:
		if err := writeFile(dir, "cpu.rt_runtime_us", i64(*c.RealtimeRuntime)); err != nil {
			return err
		}
	}
	if c.Idle != nil && *c.Idle == 1 {
		if !fileExists(dir, "cpu.idle") {
			return unavailable("cpu.idle", "not supported by this kernel (no cpu.idle)")
		}
		if err := writeFile(dir, "cpu.idle", "1"); err != nil {
			return err
		}
	}
	return nil
}

// applyCpuset writes cpus and mems; both hierarchies use these names.
func applyCpuset(dir, cpus, mems string) error {
	if cpus != "" {
		if err := writeFile(dir, "cpuset.cpus", cpus); err != nil {
			return err
		}
	}
	if mems != "" {
		if err := writeFile(dir, "cpuset.mems", mems); err != nil {
			return err
		}
	}
	return nil
}

func applyV1BlockIO(dir string, b *specs.LinuxBlockIO) error {
	// CFQ's blkio.weight is gone from current kernels; BFQ offers the same
	// knob as blkio.bfq.weight, with the same range.
	weightFile := "blkio.weight"
	if !fileExists(dir, weightFile) {
		weightFile = "blkio.bfq.weight"
	}
	needWeight := b.Weight != nil
	for _, d := range b.WeightDevice {
		needWeight = needWeight || d.Weight != nil
	}
	if needWeight && !fileExists(dir, weightFile) {
		return unavailable("blockIO.weight", "no proportional-weight I/O scheduler (neither blkio.weight nor blkio.bfq.weight exists)")
	}
	if b.Weight != nil {
		if err := writeFile(dir, weightFile, strconv.Itoa(int(*b.Weight))); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil {
		if !fileExists(dir, "blkio.leaf_weight") {
			return unavailable("blockIO.leafWeight", "not supported by this kernel (no blkio.leaf_weight; it belonged to the removed CFQ scheduler)")
		}
		if err := writeFile(dir, "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight))); err != nil {
			return err
		}
	}
	for i, d := range b.WeightDevice {
		if d.Weight != nil {
			if err := writeFile(dir, weightFile+"_device", deviceLine(d.LinuxBlockIODevice, uint64(*d.Weight))); err != nil {
				return err
			}
		}
		if d.LeafWeight != nil {
			if !fileExists(dir, "blkio.leaf_weight_device") {
				return unavailable(fmt.Sprintf("blockIO.weightDevice[%d].leafWeight", i), "not supported by this kernel (no blkio.leaf_weight_device)")
			}
			if err := writeFile(dir, "blkio.leaf_weight_device", deviceLine(d.LinuxBlockIODevice, uint64(*d.LeafWeight))); err != nil {
				return err
			}
		}
	}
	for _, t := range throttleLists(b) {
		for _, d := range t.devices {
			// A rate of 0 removes the device's limit.
			if err := writeFile(dir, t.v1File, deviceLine(d.LinuxBlockIODevice, d.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}

// deviceLine is the "MAJOR:MINOR VALUE" line the blkio files take.
func deviceLine(d specs.LinuxBlockIODevice, v uint64) string {
	return fmt.Sprintf("%d:%d %d", d.Major, d.Minor, v)
}

// applyHugetlb writes huge page limits, in either hierarchy (the files
// differ only in their suffix). The spec asks for reservation limits where
// the kernel has them (charged at mmap time, so a process gets ENOMEM
// instead of SIGBUS later); the fault limit is set too, so pages used
// without a reservation are bounded as well.
func applyHugetlb(dir string, v2 bool, limits []specs.LinuxHugepageLimit) error {
	limitSuffix, rsvdSuffix := ".limit_in_bytes", ".rsvd.limit_in_bytes"
	if v2 {
		limitSuffix, rsvdSuffix = ".max", ".rsvd.max"
	}
	for i, l := range limits {
		size, err := hugePageSizeName(l.Pagesize)
		if err != nil {
			return invalid(fmt.Sprintf("hugepageLimits[%d].pageSize", i), "%v", err)
		}
		prefix := "hugetlb." + size
		if !fileExists(dir, prefix+limitSuffix) {
			return unavailable(fmt.Sprintf("hugepageLimits[%d].pageSize", i), "this kernel has no %s huge pages", l.Pagesize)
		}
		value := strconv.FormatUint(l.Limit, 10)
		if fileExists(dir, prefix+rsvdSuffix) {
			if err := writeFile(dir, prefix+rsvdSuffix, value); err != nil {
				return err
			}
		}
		if err := writeFile(dir, prefix+limitSuffix, value); err != nil {
			return err
		}
	}
	return nil
}

// applyNetwork sets the v1-only net_cls and net_prio knobs.
func (g *group) applyNetwork(n *specs.LinuxNetwork) error {
	if n.ClassID != nil {
		d, _ := g.dirOf("net_cls")
		if err := writeFile(d.dir, "net_cls.classid", strconv.FormatUint(uint64(*n.ClassID), 10)); err != nil {
			return err
		}
	}
	if len(n.Priorities) > 0 {
		d, _ := g.dirOf("net_prio")
		for _, p := range n.Priorities {
			if err := writeFile(d.dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyRdma writes one rdma.max line per device; both hierarchies use the
// same file and syntax. Unset limits are left at their current value.
func applyRdma(dir string, rdma map[string]specs.LinuxRdma) error {
	for _, dev := range sortedKeys(rdma) {
		l := rdma[dev]
		line := dev
		if l.HcaHandles != nil {
			line += fmt.Sprintf(" hca_handle=%d", *l.HcaHandles)
		}
		if l.HcaObjects != nil {
			line += fmt.Sprintf(" hca_object=%d", *l.HcaObjects)
		}
		if err := writeFile(dir, "rdma.max", line); err != nil {
			return err
		}
	}
	return nil
}

// writePair writes two files whose values the kernel checks against each
// other (period and quota, memory and memsw limits). It tries first then
// second; if the first write is refused with EINVAL because the old value
// of the second conflicts with it, it writes them the other way round.
func writePair(dir, first, firstValue, second, secondValue string) error {
	err := writeFile(dir, first, firstValue)
	if err == nil {
		return writeFile(dir, second, secondValue)
	}
	if !errors.Is(err, unix.EINVAL) {
		return err
	}
	if err := writeFile(dir, second, secondValue); err != nil {
		return err
	}
	return writeFile(dir, first, firstValue)
}

func i64(v int64) string  { return strconv.FormatInt(v, 10) }
func u64(v uint64) string { return strconv.FormatUint(v, 10) }

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// sortedKeys gives map keys in a fixed order, so writes and errors are
// reproducible.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
