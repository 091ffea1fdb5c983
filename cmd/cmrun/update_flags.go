package main

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"
)

// limitFlags are runc update's per-limit flags. They are strings so that
// only the flags given change anything, and each is checked with its name.
type limitFlags struct {
	memory, memoryReservation, memorySwap                       *string
	cpuShare, cpuPeriod, cpuQuota, cpuRtPeriod, cpuRtRuntime    *string
	cpusetCpus, cpusetMems, blkioWeight, pidsLimit, l3, memBwSc *string
}

func registerLimitFlags(fs *pflag.FlagSet) *limitFlags {
	return &limitFlags{
		blkioWeight:       fs.String("blkio-weight", "", "per cgroup block I/O weight, 10 to 1000"),
		cpuPeriod:         fs.String("cpu-period", "", "CPU CFS period (microseconds)"),
		cpuQuota:          fs.String("cpu-quota", "", "CPU CFS quota (microseconds per period)"),
		cpuShare:          fs.String("cpu-share", "", "CPU shares (relative weight)"),
		cpuRtPeriod:       fs.String("cpu-rt-period", "", "CPU realtime period (microseconds)"),
		cpuRtRuntime:      fs.String("cpu-rt-runtime", "", "CPU realtime runtime (microseconds per period)"),
		cpusetCpus:        fs.String("cpuset-cpus", "", "CPUs to use (e.g. 0-2,4)"),
		cpusetMems:        fs.String("cpuset-mems", "", "memory nodes to use"),
		memory:            fs.String("memory", "", "memory limit in bytes (k, m, g suffixes allowed)"),
		memoryReservation: fs.String("memory-reservation", "", "memory soft limit in bytes"),
		memorySwap:        fs.String("memory-swap", "", "memory plus swap limit in bytes; -1 for unlimited swap"),
		pidsLimit:         fs.String("pids-limit", "", "maximum number of pids"),
		l3:                fs.String("l3-cache-schema", "", "Intel RDT L3 cache schema (not supported by cmrun)"),
		memBwSc:           fs.String("mem-bw-schema", "", "Intel RDT memory bandwidth schema (not supported by cmrun)"),
	}
}

// limitNames are the flags above, for changed.
var limitNames = []string{"blkio-weight", "cpu-period", "cpu-quota", "cpu-share", "cpu-rt-period", "cpu-rt-runtime",
	"cpuset-cpus", "cpuset-mems", "memory", "memory-reservation", "memory-swap", "pids-limit", "l3-cache-schema", "mem-bw-schema"}

func (l *limitFlags) changed(fs *pflag.FlagSet) bool {
	for _, n := range limitNames {
		if fs.Changed(n) {
			return true
		}
	}
	return false
}

// resources turns the flags given into a linux.resources object.
func (l *limitFlags) resources(fs *pflag.FlagSet) (*specs.LinuxResources, error) {
	for _, n := range []string{"l3-cache-schema", "mem-bw-schema"} {
		if fs.Changed(n) {
			return nil, fmt.Errorf("update: --%s: Intel RDT is not supported by cmrun", n)
		}
	}
	var r specs.LinuxResources
	var err error
	// set parses one flag's value if it was given; the first error wins.
	set := func(name string, parse func() error) {
		if err == nil && fs.Changed(name) {
			if perr := parse(); perr != nil {
				err = fmt.Errorf("update: --%s: %w", name, perr)
			}
		}
	}
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	set("memory", func() (e error) { mem().Limit, e = parseBytes(*l.memory); return })
	set("memory-reservation", func() (e error) { mem().Reservation, e = parseBytes(*l.memoryReservation); return })
	set("memory-swap", func() (e error) { mem().Swap, e = parseBytes(*l.memorySwap); return })
	set("cpu-share", func() (e error) { cpu().Shares, e = parseUint(*l.cpuShare); return })
	set("cpu-period", func() (e error) { cpu().Period, e = parseUint(*l.cpuPeriod); return })
	set("cpu-quota", func() (e error) { cpu().Quota, e = parseInt(*l.cpuQuota); return })
	set("cpu-rt-period", func() (e error) { cpu().RealtimePeriod, e = parseUint(*l.cpuRtPeriod); return })
	set("cpu-rt-runtime", func() (e error) { cpu().RealtimeRuntime, e = parseInt(*l.cpuRtRuntime); return })
	set("cpuset-cpus", func() error { cpu().Cpus = *l.cpusetCpus; return nil })
	set("cpuset-mems", func() error { cpu().Mems = *l.cpusetMems; return nil })
	set("blkio-weight", func() error {
		n, err := strconv.ParseUint(*l.blkioWeight, 10, 16)
		if err != nil {
			return fmt.Errorf("%q is not a weight (10 to 1000)", *l.blkioWeight)
		}
		w := uint16(n)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
		return nil
	})
	set("pids-limit", func() error {
		n, err := strconv.ParseInt(*l.pidsLimit, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", *l.pidsLimit)
		}
		r.Pids = &specs.LinuxPids{Limit: &n}
		return nil
	})
	return &r, err
}

func parseUint(s string) (*uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a non-negative number", s)
	}
	return &n, nil
}

func parseInt(s string) (*int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return &n, nil
}

// parseBytes reads a size as runc's update flags take it: a number and an
// optional binary unit (10m, 1.5G, 512KiB); -1 means unlimited. Read by
// hand, not with a regular expression: package regexp would make every
// cmrun process, the container's init included, map a bigger binary.
func parseBytes(s string) (*int64, error) {
	if s == "-1" {
		n := int64(-1)
		return &n, nil
	}
	number, unit, ok := splitSize(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a size (a number of bytes, k/m/g/t/p suffixes allowed, or -1)", s)
	}
	f, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a size", s)
	}
	shift := strings.IndexByte("kmgtp", unit) + 1 // 0 without a unit
	f *= float64(uint64(1) << (10 * shift))
	if f > 1<<62 {
		return nil, fmt.Errorf("%q is too large", s)
	}
	n := int64(f)
	return &n, nil
}

// splitSize splits DIGITS[.DIGITS][ ][UNIT][i][b] into the number and the
// unit's lower-case letter (0 without one).
func splitSize(s string) (number string, unit byte, ok bool) {
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	end := digits(0)
	if end == 0 {
		return "", 0, false
	}
	if end < len(s) && s[end] == '.' {
		if frac := digits(end + 1); frac > end+1 {
			end = frac
		} else {
			return "", 0, false
		}
	}
	number, rest := s[:end], strings.TrimPrefix(s[end:], " ")
	if rest != "" && strings.IndexByte("kmgtp", lower(rest[0])) >= 0 {
		unit, rest = lower(rest[0]), rest[1:]
	}
	if rest != "" && lower(rest[0]) == 'i' {
		rest = rest[1:]
	}
	if rest != "" && lower(rest[0]) == 'b' {
		rest = rest[1:]
	}
	return number, unit, rest == ""
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
