package cgroupfs

import (
	"fmt"
	"strconv"
	"strings"
)

// OCI resources are written in cgroup v1 terms. On cgroup v2 some knobs
// use other units; these conversions are the ones the OCI ecosystem (runc,
// crun, systemd) agreed on, so a config means the same on every runtime.

// cpuSharesToWeight maps v1 cpu.shares [2, 262144] linearly onto v2
// cpu.weight [1, 10000]:
//
//	weight = 1 + ((shares - 2) * 9999) / 262142
//
// so the minimum, the default (1024 -> 39) and the maximum line up.
func cpuSharesToWeight(shares uint64) uint64 {
	return 1 + ((shares-2)*9999)/262142
}

// blkioWeightToIOWeight maps a v1 blkio weight [10, 1000] linearly onto
// v2 io.weight [1, 10000]:
//
//	weight = 1 + (w - 10) * 9999 / 990
//
// BFQ's io.bfq.weight keeps the v1 range, so it gets the value unchanged.
func blkioWeightToIOWeight(w uint16) uint64 {
	return 1 + (uint64(w)-10)*9999/990
}

// swapToV2 converts OCI memory.swap, which limits memory plus swap
// together (v1's memory.memsw.limit_in_bytes), into v2's memory.swap.max,
// which limits swap alone:
//
//	memory.swap.max = swap - limit, and swap == -1 means "max"
//
// Validation has already made sure a finite swap comes with a finite
// limit no larger than it.
func swapToV2(swap, limit int64) string {
	if swap == -1 {
		return "max"
	}
	return strconv.FormatInt(swap-limit, 10)
}

// v2Limit writes an OCI limit where -1 means unlimited in v2 syntax.
func v2Limit(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// hugePageSizeName turns an OCI pageSize ("2MB", "2048KB", "1GB") into the
// name the kernel uses in hugetlb.<size>.* files. The kernel prints GB
// for sizes of at least 1 GiB, MB for at least 1 MiB, else KB
// (mem_fmt in mm/hugetlb_cgroup.c), so "2048KB" must become "2MB".
func hugePageSizeName(pageSize string) (string, error) {
	bytes, err := parseHugePageSize(pageSize)
	if err != nil {
		return "", err
	}
	const kib, mib, gib = 1 << 10, 1 << 20, 1 << 30
	switch {
	case bytes >= gib:
		return fmt.Sprintf("%dGB", bytes/gib), nil
	case bytes >= mib:
		return fmt.Sprintf("%dMB", bytes/mib), nil
	default:
		return fmt.Sprintf("%dKB", bytes/kib), nil
	}
}

// parseHugePageSize reads "<size><unit-prefix>B" with base-1024 units, as
// the runtime spec defines it.
func parseHugePageSize(s string) (uint64, error) {
	units := map[string]uint64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
	if len(s) < 3 {
		return 0, fmt.Errorf("page size %q: want <number>KB, MB or GB", s)
	}
	mult, ok := units[strings.ToUpper(s[len(s)-2:])]
	if !ok {
		return 0, fmt.Errorf("page size %q: want <number>KB, MB or GB", s)
	}
	n, err := strconv.ParseUint(s[:len(s)-2], 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("page size %q: want <number>KB, MB or GB", s)
	}
	// Huge pages are powers of two; anything else cannot name a file.
	if n&(n-1) != 0 {
		return 0, fmt.Errorf("page size %q: not a power of two", s)
	}
	return n * mult, nil
}
