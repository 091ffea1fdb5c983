package cgroupfs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fieldError is one problem with one linux.resources field. Its message
// names the field the way the user wrote it in config.json.
type fieldError struct {
	field string // below linux.resources, e.g. "memory.swap"
	msg   string
	kind  error // ErrInvalidResources or ErrUnavailable
}

func (e *fieldError) Error() string { return "linux.resources." + e.field + ": " + e.msg }
func (e *fieldError) Unwrap() error { return e.kind }

func invalid(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...), kind: ErrInvalidResources}
}

func unavailable(field, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...), kind: ErrUnavailable}
}

// Kernel limits the values are checked against (Documentation/scheduler/
// sched-bwc.rst and the cgroup v1 docs).
const (
	minShares      = 2
	maxShares      = 262144
	minCFSPeriod   = 1000    // 1 ms, in microseconds
	maxCFSPeriod   = 1000000 // 1 s
	minCFSQuota    = 1000    // 1 ms
	minBlkioWeight = 10
	maxBlkioWeight = 1000
)

// ValidateResources rejects resources that make no sense, or that ask for a
// controller this host does not have, before anything is created. All
// problems are reported together; each names its field and wraps
// ErrInvalidResources or ErrUnavailable.
func (h *Host) ValidateResources(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	errs := validateValues(r)
	errs = append(errs, h.checkAvailable(r)...)
	return errors.Join(errs...)
}

// validateValues checks values alone, whatever the host.
func validateValues(r *specs.LinuxResources) []error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if m := r.Memory; m != nil {
		add(limitOrUnlimited("memory.limit", m.Limit, 1))
		add(limitOrUnlimited("memory.reservation", m.Reservation, 0))
		add(limitOrUnlimited("memory.kernel", m.Kernel, 0))
		add(limitOrUnlimited("memory.kernelTCP", m.KernelTCP, 0))
		add(limitOrUnlimited("memory.swap", m.Swap, 0))
		if m.Swap != nil && *m.Swap >= 0 {
			// Both v1 (memsw >= limit) and v2 (swap.max = swap - limit)
			// need the memory limit to make sense of a finite swap.
			switch {
			case m.Limit == nil || *m.Limit == -1:
				add(invalid("memory.swap", "a finite swap limit needs a finite memory.limit"))
			case *m.Swap < *m.Limit:
				add(invalid("memory.swap", "must be >= memory.limit (got %d < %d)", *m.Swap, *m.Limit))
			}
		}
		if m.Swappiness != nil && *m.Swappiness > 100 {
			add(invalid("memory.swappiness", "must be between 0 and 100 (got %d)", *m.Swappiness))
		}
	}
	if c := r.CPU; c != nil {
		if c.Shares != nil && (*c.Shares < minShares || *c.Shares > maxShares) {
			add(invalid("cpu.shares", "must be between %d and %d (got %d)", minShares, maxShares, *c.Shares))
		}
		if c.Period != nil && (*c.Period < minCFSPeriod || *c.Period > maxCFSPeriod) {
			add(invalid("cpu.period", "must be between %d and %d microseconds (got %d)", minCFSPeriod, maxCFSPeriod, *c.Period))
		}
		if c.Quota != nil && *c.Quota != -1 && *c.Quota < minCFSQuota {
			add(invalid("cpu.quota", "must be -1 (unlimited) or at least %d microseconds (got %d)", minCFSQuota, *c.Quota))
		}
		if c.Burst != nil && c.Quota != nil && *c.Quota > 0 && *c.Burst > uint64(*c.Quota) {
			add(invalid("cpu.burst", "must be <= cpu.quota (got %d > %d)", *c.Burst, *c.Quota))
		}
		add(limitOrUnlimited("cpu.realtimeRuntime", c.RealtimeRuntime, 0))
		if c.RealtimePeriod != nil && *c.RealtimePeriod == 0 {
			add(invalid("cpu.realtimePeriod", "must be positive"))
		}
		if c.RealtimeRuntime != nil && c.RealtimePeriod != nil && *c.RealtimeRuntime > 0 && uint64(*c.RealtimeRuntime) > *c.RealtimePeriod {
			add(invalid("cpu.realtimeRuntime", "must be <= cpu.realtimePeriod (got %d > %d)", *c.RealtimeRuntime, *c.RealtimePeriod))
		}
		if err := checkList(c.Cpus); err != nil {
			add(invalid("cpu.cpus", "%v", err))
		}
		if err := checkList(c.Mems); err != nil {
			add(invalid("cpu.mems", "%v", err))
		}
		if c.Idle != nil && *c.Idle != 0 && *c.Idle != 1 {
			add(invalid("cpu.idle", "must be 0 or 1 (got %d)", *c.Idle))
		}
	}
	if p := r.Pids; p != nil {
		// 0 is a real limit for pids: no new task at all.
		add(limitOrUnlimited("pids.limit", p.Limit, 0))
	}
	if b := r.BlockIO; b != nil {
		add(blkioWeight("blockIO.weight", b.Weight))
		add(blkioWeight("blockIO.leafWeight", b.LeafWeight))
		for i, d := range b.WeightDevice {
			f := fmt.Sprintf("blockIO.weightDevice[%d]", i)
			add(blockDevice(f, d.LinuxBlockIODevice))
			if d.Weight == nil && d.LeafWeight == nil {
				add(invalid(f, "needs weight or leafWeight"))
			}
			add(blkioWeight(f+".weight", d.Weight))
			add(blkioWeight(f+".leafWeight", d.LeafWeight))
		}
		for _, t := range throttleLists(b) {
			for i, d := range t.devices {
				add(blockDevice(fmt.Sprintf("blockIO.%s[%d]", t.field, i), d.LinuxBlockIODevice))
			}
		}
	}
	for i, l := range r.HugepageLimits {
		if _, err := parseHugePageSize(l.Pagesize); err != nil {
			add(invalid(fmt.Sprintf("hugepageLimits[%d].pageSize", i), "%v", err))
		}
	}
	devicesOK := true
	for i, d := range r.Devices {
		if err := checkDeviceRule(fmt.Sprintf("devices[%d]", i), d); err != nil {
			add(err)
			devicesOK = false
		}
	}
	if devicesOK {
		// Rules the kernel would silently ignore.
		_, err := effectiveDeviceRules(r.Devices)
		add(err)
	}
	if n := r.Network; n != nil {
		for i, p := range n.Priorities {
			if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
				add(invalid(fmt.Sprintf("network.priorities[%d].name", i), "not an interface name: %q", p.Name))
			}
		}
	}
	for _, dev := range sortedKeys(r.Rdma) {
		l := r.Rdma[dev]
		f := fmt.Sprintf("rdma[%q]", dev)
		if dev == "" || strings.ContainsAny(dev, " \t\n") {
			add(invalid(f, "not a device name"))
		}
		if l.HcaHandles == nil && l.HcaObjects == nil {
			add(invalid(f, "needs hcaHandles or hcaObjects"))
		}
	}
	for _, key := range sortedKeys(r.Unified) {
		if key == "" || strings.ContainsAny(key, "/\x00") || !strings.Contains(key, ".") || strings.HasPrefix(key, ".") {
			add(invalid(fmt.Sprintf("unified[%q]", key), "not a cgroup file name"))
		}
	}
	return errs
}

// limitOrUnlimited accepts -1 (unlimited) or a value of at least min.
func limitOrUnlimited(field string, v *int64, min int64) error {
	if v == nil || *v == -1 || *v >= min {
		return nil
	}
	return invalid(field, "must be -1 (unlimited) or at least %d (got %d)", min, *v)
}

func blkioWeight(field string, w *uint16) error {
	if w == nil || (*w >= minBlkioWeight && *w <= maxBlkioWeight) {
		return nil
	}
	return invalid(field, "must be between %d and %d (got %d)", minBlkioWeight, maxBlkioWeight, *w)
}

func blockDevice(field string, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 || d.Minor < 0 {
		return invalid(field, "bad device number %d:%d", d.Major, d.Minor)
	}
	return nil
}

// throttleList is one of the four blockIO throttle lists, with the JSON
// field it came from and the files that enforce it.
type throttleList struct {
	field   string // JSON name under blockIO
	v1File  string // blkio.throttle.* file
	v2Key   string // key in io.max
	devices []specs.LinuxThrottleDevice
}

func throttleLists(b *specs.LinuxBlockIO) []throttleList {
	return []throttleList{
		{"throttleReadBpsDevice", "blkio.throttle.read_bps_device", "rbps", b.ThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", "blkio.throttle.write_bps_device", "wbps", b.ThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", "blkio.throttle.read_iops_device", "riops", b.ThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", "blkio.throttle.write_iops_device", "wiops", b.ThrottleWriteIOPSDevice},
	}
}

// checkList checks a kernel list such as "0-3,7" (cpuset.cpus syntax); ""
// means the field is unset.
func checkList(s string) error {
	if s == "" {
		return nil
	}
	for _, item := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := strconv.ParseUint(lo, 10, 32)
		if err != nil {
			return fmt.Errorf("%q is not a list like \"0-1,3\"", s)
		}
		if !isRange {
			continue
		}
		b, err := strconv.ParseUint(hi, 10, 32)
		if err != nil || b < a {
			return fmt.Errorf("%q is not a list like \"0-1,3\"", s)
		}
	}
	return nil
}

func checkDeviceRule(field string, d specs.LinuxDeviceCgroup) error {
	switch d.Type {
	case "", "a", "b", "c":
	default:
		return invalid(field+".type", "must be a, b or c (got %q)", d.Type)
	}
	// -1 is accepted as "all", as other runtimes do.
	for _, n := range []*int64{d.Major, d.Minor} {
		if n != nil && (*n < -1 || *n > maxDeviceNumber) {
			return invalid(field, "bad device number %d", *n)
		}
	}
	for _, c := range d.Access {
		if !strings.ContainsRune("rwm", c) {
			return invalid(field+".access", "must combine r, w and m (got %q)", d.Access)
		}
	}
	return nil
}

// checkAvailable reports resources that need a controller the host lacks.
func (h *Host) checkAvailable(r *specs.LinuxResources) []error {
	var errs []error
	need := func(field, controller string) {
		if h.lookup(controller) == nil {
			errs = append(errs, unavailable(field, "%s controller not available", controller))
		}
	}
	if memorySet(r.Memory) {
		need("memory", "memory")
	}
	if cpuSet(r.CPU) {
		need("cpu", "cpu")
	}
	if r.CPU != nil && (r.CPU.Cpus != "" || r.CPU.Mems != "") {
		need("cpu", "cpuset")
	}
	if r.Pids != nil && r.Pids.Limit != nil {
		need("pids", "pids")
	}
	if blockIOSet(r.BlockIO) && h.lookup("blkio") == nil && h.lookup("io") == nil {
		errs = append(errs, unavailable("blockIO", "blkio (v1) or io (v2) controller not available"))
	}
	if len(r.HugepageLimits) > 0 {
		need("hugepageLimits", "hugetlb")
	}
	// Without a v1 devices controller, cgroup v2 enforces the rules with
	// an eBPF program (see Apply); with neither, they are an error.
	if len(r.Devices) > 0 && h.unified == nil {
		need("devices", "devices")
	}
	if r.Network != nil && r.Network.ClassID != nil {
		need("network.classID", "net_cls")
	}
	if r.Network != nil && len(r.Network.Priorities) > 0 {
		need("network.priorities", "net_prio")
	}
	if len(r.Rdma) > 0 {
		need("rdma", "rdma")
	}
	for _, key := range sortedKeys(r.Unified) {
		f := fmt.Sprintf("unified[%q]", key)
		if h.unified == nil {
			errs = append(errs, unavailable(f, "needs a cgroup v2 hierarchy, and this host has only cgroup v1"))
			continue
		}
		ctrl, _, _ := strings.Cut(key, ".")
		if ctrl != "cgroup" && !h.unified.has(ctrl) {
			errs = append(errs, unavailable(f, "controller %q is not available in the cgroup v2 hierarchy", ctrl))
		}
	}
	return errs
}

func memorySet(m *specs.LinuxMemory) bool {
	return m != nil && (m.Limit != nil || m.Reservation != nil || m.Swap != nil || m.Kernel != nil ||
		m.KernelTCP != nil || m.Swappiness != nil || m.DisableOOMKiller != nil || m.UseHierarchy != nil)
}

// cpuSet reports whether the cpu controller proper is needed (cpus and
// mems belong to cpuset).
func cpuSet(c *specs.LinuxCPU) bool {
	return c != nil && (c.Shares != nil || c.Quota != nil || c.Period != nil || c.Burst != nil ||
		c.RealtimeRuntime != nil || c.RealtimePeriod != nil || c.Idle != nil)
}

func blockIOSet(b *specs.LinuxBlockIO) bool {
	return b != nil && (b.Weight != nil || b.LeafWeight != nil || len(b.WeightDevice) > 0 ||
		len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
}
