package cgroupfs

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// This file writes OCI resources with cgroup v2 file names and units
// (see convert.go for the conversions). v2 writes "max" for unlimited.

func applyV2Memory(dir string, m *specs.LinuxMemory) ([]string, error) {
	var warnings []string
	if m.CheckBeforeUpdate != nil && *m.CheckBeforeUpdate && m.Limit != nil && *m.Limit > 0 {
		// On v2 a limit below usage is accepted and the OOM killer runs;
		// checkBeforeUpdate asks for v1's refusal instead.
		if err := checkNotBelowUsage(dir, "memory.current", *m.Limit); err != nil {
			return nil, err
		}
	}
	if m.Limit != nil {
		if err := writeFile(dir, "memory.max", v2Limit(*m.Limit)); err != nil {
			return nil, err
		}
	}
	if m.Swap != nil {
		if !fileExists(dir, "memory.swap.max") {
			return nil, unavailable("memory.swap", "swap accounting is off in this kernel (no memory.swap.max)")
		}
		limit := int64(-1)
		if m.Limit != nil {
			limit = *m.Limit
		}
		if err := writeFile(dir, "memory.swap.max", swapToV2(*m.Swap, limit)); err != nil {
			return nil, err
		}
	}
	if m.Reservation != nil {
		if err := writeFile(dir, "memory.low", v2Limit(*m.Reservation)); err != nil {
			return nil, err
		}
	}
	if m.Kernel != nil {
		warnings = append(warnings, "linux.resources.memory.kernel: not supported on cgroup v2, ignored")
	}
	if m.KernelTCP != nil {
		warnings = append(warnings, "linux.resources.memory.kernelTCP: not supported on cgroup v2, ignored")
	}
	if m.Swappiness != nil {
		warnings = append(warnings, "linux.resources.memory.swappiness: not supported on cgroup v2, ignored")
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		warnings = append(warnings, "linux.resources.memory.disableOOMKiller: not supported on cgroup v2, ignored")
	}
	if m.UseHierarchy != nil && !*m.UseHierarchy {
		warnings = append(warnings, "linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical, ignored")
	}
	return warnings, nil
}

func applyV2CPU(dir string, c *specs.LinuxCPU) error {
	if c.RealtimeRuntime != nil || c.RealtimePeriod != nil {
		return unavailable("cpu.realtimeRuntime", "real-time group scheduling has no cgroup v2 interface")
	}
	// As on v1, cpu.weight is refused while cpu.idle is 1.
	if c.Idle != nil && *c.Idle == 0 {
		if err := writeFile(dir, "cpu.idle", "0"); err != nil {
			return err
		}
	}
	if c.Shares != nil {
		if err := writeFile(dir, "cpu.weight", u64(cpuSharesToWeight(*c.Shares))); err != nil {
			return err
		}
	}
	if c.Quota != nil || c.Period != nil {
		value, err := cpuMax(dir, c.Quota, c.Period)
		if err != nil {
			return err
		}
		if err := writeFile(dir, "cpu.max", value); err != nil {
			return err
		}
	}
	if c.Burst != nil {
		if !fileExists(dir, "cpu.max.burst") {
			return unavailable("cpu.burst", "not supported by this kernel (no cpu.max.burst)")
		}
		if err := writeFile(dir, "cpu.max.burst", u64(*c.Burst)); err != nil {
			return err
		}
	}
	if c.Idle != nil && *c.Idle == 1 {
		if err := writeFile(dir, "cpu.idle", "1"); err != nil {
			return err
		}
	}
	return nil
}

// cpuMax builds the "QUOTA PERIOD" line of cpu.max. Written alone, the
// quota keeps the current period; a period written alone must carry the
// current quota along, or it would reset it.
func cpuMax(dir string, quota *int64, period *uint64) (string, error) {
	switch {
	case period == nil:
		return v2Limit(*quota), nil
	case quota != nil:
		return v2Limit(*quota) + " " + u64(*period), nil
	}
	cur, err := readFile(dir, "cpu.max")
	if err != nil {
		return "", err
	}
	curQuota, _, _ := strings.Cut(cur, " ")
	return curQuota + " " + u64(*period), nil
}

func applyV2IO(dir string, b *specs.LinuxBlockIO) ([]string, error) {
	var warnings []string
	// BFQ's io.bfq.weight keeps v1's 1-1000 range; the generic io.weight
	// (1-10000) needs the conversion.
	weightFile, convert := "io.bfq.weight", false
	if !fileExists(dir, weightFile) {
		weightFile, convert = "io.weight", true
	}
	weight := func(w uint16) string {
		if convert {
			return u64(blkioWeightToIOWeight(w))
		}
		return strconv.Itoa(int(w))
	}
	needWeight := b.Weight != nil
	for _, d := range b.WeightDevice {
		needWeight = needWeight || d.Weight != nil
	}
	if needWeight && !fileExists(dir, weightFile) {
		return nil, unavailable("blockIO.weight", "no proportional-weight I/O control (neither io.bfq.weight nor io.weight exists)")
	}
	if b.Weight != nil {
		if err := writeFile(dir, weightFile, weight(*b.Weight)); err != nil {
			return nil, err
		}
	}
	if b.LeafWeight != nil {
		warnings = append(warnings, "linux.resources.blockIO.leafWeight: no cgroup v2 equivalent, ignored")
	}
	for i, d := range b.WeightDevice {
		if d.Weight != nil {
			line := fmt.Sprintf("%d:%d %s", d.Major, d.Minor, weight(*d.Weight))
			if err := writeFile(dir, weightFile, line); err != nil {
				return nil, err
			}
		}
		if d.LeafWeight != nil {
			warnings = append(warnings, fmt.Sprintf("linux.resources.blockIO.weightDevice[%d].leafWeight: no cgroup v2 equivalent, ignored", i))
		}
	}
	for _, t := range throttleLists(b) {
		for _, d := range t.devices {
			// A rate of 0 means no limit, as on v1.
			rate := "max"
			if d.Rate > 0 {
				rate = u64(d.Rate)
			}
			line := fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.v2Key, rate)
			if err := writeFile(dir, "io.max", line); err != nil {
				return nil, err
			}
		}
	}
	return warnings, nil
}

// applyUnified writes the raw cgroup v2 key/values. Validation checked
// that each key's controller is in the hierarchy; a key naming a file the
// group does not have is an error rather than a new plain file.
func applyUnified(dir string, unified map[string]string) error {
	for _, key := range sortedKeys(unified) {
		if !fileExists(dir, key) {
			return unavailable(fmt.Sprintf("unified[%q]", key), "no such file in the cgroup")
		}
		if err := writeFile(dir, key, unified[key]); err != nil {
			return err
		}
	}
	return nil
}
