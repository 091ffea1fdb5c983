package cgroupfs

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

func ptr[T any](v T) *T { return &v }

// fullResources sets (nearly) every linux.resources section.
func fullResources() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory: &specs.LinuxMemory{
			Limit: ptr(int64(64 << 20)), Reservation: ptr(int64(32 << 20)), Swap: ptr(int64(128 << 20)),
			KernelTCP: ptr(int64(1 << 20)), Swappiness: ptr(uint64(10)), DisableOOMKiller: ptr(true),
		},
		CPU: &specs.LinuxCPU{
			Shares: ptr(uint64(1024)), Quota: ptr(int64(50000)), Period: ptr(uint64(100000)),
			Burst: ptr(uint64(10000)), Cpus: "0-1", Mems: "0", Idle: ptr(int64(0)),
		},
		Pids: &specs.LinuxPids{Limit: ptr(int64(32))},
		BlockIO: &specs.LinuxBlockIO{
			Weight:                ptr(uint16(500)),
			ThrottleReadBpsDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 1 << 20}},
		},
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"},
		},
	}
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		spec    fakeSpec
		prepare func(t *testing.T, f *fake) // adjust the fake kernel's files
		res     *specs.LinuxResources
		want    map[string]string // file below the fake root -> content
		// wantWarnings must all appear among the warnings, in order.
		wantWarnings []string
		wantErr      error
		wantMsg      string
	}{{
		name: "v1 full resources",
		spec: fakeV1,
		res:  fullResources(),
		want: map[string]string{
			"memory/ctr/memory.limit_in_bytes":            "67108864",
			"memory/ctr/memory.memsw.limit_in_bytes":      "134217728",
			"memory/ctr/memory.soft_limit_in_bytes":       "33554432",
			"memory/ctr/memory.kmem.tcp.limit_in_bytes":   "1048576",
			"memory/ctr/memory.swappiness":                "10",
			"memory/ctr/memory.oom_control":               "1",
			"cpu,cpuacct/ctr/cpu.shares":                  "1024",
			"cpu,cpuacct/ctr/cpu.cfs_period_us":           "100000",
			"cpu,cpuacct/ctr/cpu.cfs_quota_us":            "50000",
			"cpu,cpuacct/ctr/cpu.cfs_burst_us":            "10000",
			"cpu,cpuacct/ctr/cpu.idle":                    "0",
			"cpuset/ctr/cpuset.cpus":                      "0-1",
			"cpuset/ctr/cpuset.mems":                      "0",
			"pids/ctr/pids.max":                           "32",
			"blkio/ctr/blkio.bfq.weight":                  "500",
			"blkio/ctr/blkio.throttle.read_bps_device":    "8:0 1048576",
			"hugetlb/ctr/hugetlb.2MB.limit_in_bytes":      "4194304",
			"hugetlb/ctr/hugetlb.2MB.rsvd.limit_in_bytes": "4194304",
			"devices/ctr/devices.deny":                    "a",
			"devices/ctr/devices.allow":                   "c 1:3 rw",
		},
	}, {
		name: "hybrid full resources: limits in v1, huge pages in unified",
		spec: fakeHybrid,
		res:  fullResources(),
		want: map[string]string{
			"memory/ctr/memory.limit_in_bytes":       "67108864",
			"memory/ctr/memory.memsw.limit_in_bytes": "134217728",
			"cpu/ctr/cpu.cfs_quota_us":               "50000",
			"cpuset/ctr/cpuset.cpus":                 "0-1",
			"pids/ctr/pids.max":                      "32",
			"devices/ctr/devices.allow":              "c 1:3 rw",
			"unified/ctr/hugetlb.2MB.max":            "4194304",
			"unified/ctr/hugetlb.2MB.rsvd.max":       "4194304",
			"unified/cgroup.subtree_control":         "+hugetlb",
		},
	}, {
		// Device rules on v2 are an eBPF program, which only a real
		// cgroup takes: see TestRealDevicesV2 and the VM tests.
		name: "v2 full resources, converted",
		spec: fakeV2,
		res: func() *specs.LinuxResources {
			r := fullResources()
			r.Devices = nil
			return r
		}(),
		want: map[string]string{
			"ctr/memory.max":           "67108864",
			"ctr/memory.swap.max":      "67108864", // 128 MiB total minus 64 MiB memory
			"ctr/memory.low":           "33554432",
			"ctr/cpu.weight":           "39", // 1 + (1024-2)*9999/262142
			"ctr/cpu.max":              "50000 100000",
			"ctr/cpu.max.burst":        "10000",
			"ctr/cpu.idle":             "0",
			"ctr/cpuset.cpus":          "0-1",
			"ctr/cpuset.mems":          "0",
			"ctr/pids.max":             "32",
			"ctr/io.weight":            "4950", // 1 + (500-10)*9999/990
			"ctr/io.max":               "8:0 rbps=1048576",
			"ctr/hugetlb.2MB.max":      "4194304",
			"ctr/hugetlb.2MB.rsvd.max": "4194304",
		},
		wantWarnings: []string{
			"linux.resources.memory.kernelTCP: not supported on cgroup v2, ignored",
			"linux.resources.memory.swappiness: not supported on cgroup v2, ignored",
			"linux.resources.memory.disableOOMKiller: not supported on cgroup v2, ignored",
		},
	}, {
		name: "v1 unlimited memory and pids",
		spec: fakeV1,
		res:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1)), Swap: ptr(int64(-1))}, Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}},
		want: map[string]string{
			"memory/ctr/memory.limit_in_bytes":       "-1",
			"memory/ctr/memory.memsw.limit_in_bytes": "-1",
			"pids/ctr/pids.max":                      "max",
		},
	}, {
		name: "v2 unlimited memory and pids",
		spec: fakeV2,
		res:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-1)), Swap: ptr(int64(-1))}, Pids: &specs.LinuxPids{Limit: ptr(int64(-1))}},
		want: map[string]string{"ctr/memory.max": "max", "ctr/memory.swap.max": "max", "ctr/pids.max": "max"},
	}, {
		name: "pids limit 0 is a real limit",
		spec: fakeV2,
		res:  &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(0))}},
		want: map[string]string{"ctr/pids.max": "0"},
	}, {
		name: "v2 unlimited quota keeps the period",
		spec: fakeV2,
		res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(-1)), Period: ptr(uint64(50000))}},
		want: map[string]string{"ctr/cpu.max": "max 50000"},
	}, {
		name: "v2 quota alone",
		spec: fakeV2,
		res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(20000))}},
		want: map[string]string{"ctr/cpu.max": "20000"},
	}, {
		name: "v2 period alone keeps the current quota",
		spec: fakeV2,
		prepare: func(t *testing.T, f *fake) {
			writeFakeFile(t, filepath.Join(f.root, "ctr"), "cpu.max", "30000 100000\n")
		},
		res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(250000))}},
		want: map[string]string{"ctr/cpu.max": "30000 250000"},
	}, {
		name: "v2 idle",
		spec: fakeV2,
		res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(2)), Idle: ptr(int64(1))}},
		want: map[string]string{"ctr/cpu.idle": "1", "ctr/cpu.weight": "1"},
	}, {
		name: "v1 realtime",
		spec: fakeV1,
		res:  &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(950000)), RealtimePeriod: ptr(uint64(1000000))}},
		want: map[string]string{"cpu,cpuacct/ctr/cpu.rt_runtime_us": "950000", "cpu,cpuacct/ctr/cpu.rt_period_us": "1000000"},
	}, {
		name:    "v2 realtime is an error",
		spec:    fakeV2,
		res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(950000))}},
		wantErr: ErrUnavailable,
		wantMsg: "linux.resources.cpu.realtimeRuntime: real-time group scheduling has no cgroup v2 interface",
	}, {
		name: "v1 per-device weight",
		spec: fakeV1,
		res: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: ptr(uint16(200))},
		}}},
		want: map[string]string{"blkio/ctr/blkio.bfq.weight_device": "8:16 200"},
	}, {
		name:    "v1 leaf weight needs CFQ",
		spec:    fakeV1,
		res:     &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr(uint16(200))}},
		wantErr: ErrUnavailable,
		wantMsg: "linux.resources.blockIO.leafWeight: not supported by this kernel",
	}, {
		name: "v2 per-device weight converted, leaf weight warned",
		spec: fakeV2,
		res: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr(uint16(100)), WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Weight: ptr(uint16(200))},
		}}},
		want:         map[string]string{"ctr/io.weight": "8:16 1920"}, // 1 + (200-10)*9999/990
		wantWarnings: []string{"linux.resources.blockIO.leafWeight: no cgroup v2 equivalent, ignored"},
	}, {
		name: "v2 BFQ weight keeps the v1 range",
		spec: fakeV2,
		prepare: func(t *testing.T, f *fake) {
			writeFakeFile(t, filepath.Join(f.root, "ctr"), "io.bfq.weight", "default 100\n")
		},
		res:  &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(500))}},
		want: map[string]string{"ctr/io.bfq.weight": "500", "ctr/io.weight": "default 100"},
	}, {
		name: "v2 throttle rate 0 means no limit",
		spec: fakeV2,
		res: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 254, Minor: 0}, Rate: 0},
		}}},
		want: map[string]string{"ctr/io.max": "254:0 wiops=max"},
	}, {
		name: "page size written the kernel's way",
		spec: fakeV2,
		res:  &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2048KB", Limit: 2 << 20}}},
		want: map[string]string{"ctr/hugetlb.2MB.max": "2097152"},
	}, {
		name:    "page size the kernel lacks",
		spec:    fakeV2,
		res:     &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "64KB", Limit: 1 << 20}}},
		wantErr: ErrUnavailable,
		wantMsg: "linux.resources.hugepageLimits[0].pageSize: this kernel has no 64KB huge pages",
	}, {
		name:    "huge pages without a hugetlb controller",
		spec:    fakeSpec{v1: [][]string{{"memory"}}},
		res:     &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 1 << 20}}},
		wantErr: ErrUnavailable,
		wantMsg: "linux.resources.hugepageLimits: hugetlb controller not available",
	}, {
		name: "v1 network",
		spec: fakeV1,
		res: &specs.LinuxResources{Network: &specs.LinuxNetwork{
			ClassID: ptr(uint32(0x100001)), Priorities: []specs.LinuxInterfacePriority{{Name: "eth0", Priority: 5}},
		}},
		want: map[string]string{"net_cls,net_prio/ctr/net_cls.classid": "1048577", "net_cls,net_prio/ctr/net_prio.ifpriomap": "eth0 5"},
	}, {
		name: "v2 rdma",
		spec: fakeV2,
		res:  &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_1": {HcaHandles: ptr(uint32(3)), HcaObjects: ptr(uint32(10000))}}},
		want: map[string]string{"ctr/rdma.max": "mlx5_1 hca_handle=3 hca_object=10000"},
	}, {
		name: "v2 unified written last, over converted values",
		spec: fakeV2,
		res: &specs.LinuxResources{
			Memory:  &specs.LinuxMemory{Limit: ptr(int64(1 << 30))},
			Unified: map[string]string{"memory.high": "50000000", "memory.max": "2000000000"},
		},
		want: map[string]string{"ctr/memory.high": "50000000", "ctr/memory.max": "2000000000"},
	}, {
		name:    "v2 unified file that does not exist",
		spec:    fakeV2,
		res:     &specs.LinuxResources{Unified: map[string]string{"memory.nonsense": "1"}},
		wantErr: ErrUnavailable,
		wantMsg: `linux.resources.unified["memory.nonsense"]: no such file in the cgroup`,
	}, {
		name:    "v2 unified unknown controller",
		spec:    fakeV2,
		res:     &specs.LinuxResources{Unified: map[string]string{"foo.bar": "1"}},
		wantErr: ErrUnavailable,
		wantMsg: `linux.resources.unified["foo.bar"]: controller "foo" is not available in the cgroup v2 hierarchy`,
	}, {
		name: "hybrid unified for a v2-bound controller",
		spec: fakeHybrid,
		res:  &specs.LinuxResources{Unified: map[string]string{"hugetlb.1GB.max": "0"}},
		want: map[string]string{"unified/ctr/hugetlb.1GB.max": "0"},
	}, {
		name:    "hybrid unified for a v1-bound controller",
		spec:    fakeHybrid,
		res:     &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}},
		wantErr: ErrUnavailable,
		wantMsg: `controller "memory" is not available in the cgroup v2 hierarchy`,
	}, {
		name:    "v1 unified",
		spec:    fakeV1,
		res:     &specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}},
		wantErr: ErrUnavailable,
		wantMsg: `linux.resources.unified["memory.high"]: needs a cgroup v2 hierarchy, and this host has only cgroup v1`,
	}, {
		name: "v1 swap without swap accounting",
		spec: fakeV1,
		prepare: func(t *testing.T, f *fake) {
			require.NoError(t, os.Remove(filepath.Join(f.root, "memory/ctr/memory.memsw.limit_in_bytes")))
		},
		res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(1 << 20)), Swap: ptr(int64(2 << 20))}},
		wantErr: ErrUnavailable,
		wantMsg: "linux.resources.memory.swap: swap accounting is off",
	}, {
		name:         "v1 deprecated kernel memory is a warning",
		spec:         fakeV1,
		res:          &specs.LinuxResources{Memory: &specs.LinuxMemory{Kernel: ptr(int64(1 << 20)), UseHierarchy: ptr(true)}},
		want:         map[string]string{"memory/ctr/memory.use_hierarchy": "1"},
		wantWarnings: []string{"linux.resources.memory.kernel: deprecated and ignored"},
	}, {
		name: "v2 checkBeforeUpdate refuses a limit below usage",
		spec: fakeV2,
		prepare: func(t *testing.T, f *fake) {
			writeFakeFile(t, filepath.Join(f.root, "ctr"), "memory.current", "104857600\n")
		},
		res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), CheckBeforeUpdate: ptr(true)}},
		wantErr: ErrInvalidResources,
		wantMsg: "linux.resources.memory.limit: 67108864 is below the current usage of 104857600 bytes",
	}, {
		name: "v1 checkBeforeUpdate accepts a limit above usage",
		spec: fakeV1,
		prepare: func(t *testing.T, f *fake) {
			writeFakeFile(t, filepath.Join(f.root, "memory/ctr"), "memory.usage_in_bytes", "1048576\n")
		},
		res:  &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(64 << 20)), CheckBeforeUpdate: ptr(true)}},
		want: map[string]string{"memory/ctr/memory.limit_in_bytes": "67108864"},
	}, {
		name:    "invalid values are refused before any write",
		spec:    fakeV1,
		res:     &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(10))}, Memory: &specs.LinuxMemory{Limit: ptr(int64(-5))}},
		want:    map[string]string{"pids/ctr/pids.max": "max"},
		wantErr: ErrInvalidResources,
		wantMsg: "linux.resources.memory.limit: must be -1 (unlimited) or at least 1 (got -5)",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.spec)
			g := f.group(t, "/ctr")
			require.NoError(t, g.Create())
			if tc.prepare != nil {
				tc.prepare(t, f)
			}
			warnings, err := g.Apply(tc.res)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				require.ErrorContains(t, err, tc.wantMsg)
			} else {
				require.NoError(t, err)
			}
			for file, want := range tc.want {
				require.Equal(t, want, f.file(t, file), file)
			}
			if tc.wantErr == nil {
				require.Equal(t, tc.wantWarnings, warnings)
			}
		})
	}
}

// TestCreateFake checks what Create does besides mkdir: copying cpusets
// into new v1 directories, enabling v2 controllers in every ancestor, and
// cleaning up after itself when it fails.
func TestCreateFake(t *testing.T) {
	t.Run("v1 cpuset copied into every new level", func(t *testing.T) {
		f := newFake(t, fakeV1)
		g := f.group(t, "/a/b")
		require.NoError(t, g.Create())
		for _, dir := range []string{"cpuset/a", "cpuset/a/b"} {
			require.Equal(t, "0-3", f.file(t, dir+"/cpuset.cpus"), dir)
			require.Equal(t, "0", f.file(t, dir+"/cpuset.mems"), dir)
		}
	})
	t.Run("v1 existing cpuset kept", func(t *testing.T) {
		f := newFake(t, fakeV1)
		g := f.group(t, "/a")
		writeFakeFile(t, filepath.Join(f.root, "cpuset/a"), "cpuset.cpus", "1")
		require.NoError(t, g.Create())
		require.Equal(t, "1", f.file(t, "cpuset/a/cpuset.cpus"))
	})
	t.Run("v2 controllers enabled in each ancestor", func(t *testing.T) {
		f := newFake(t, fakeSpec{unified: []string{"pids"}})
		g := f.group(t, "/a/b")
		require.NoError(t, g.Create())
		require.Equal(t, "+pids", f.file(t, "cgroup.subtree_control"))
		require.Equal(t, "+pids", f.file(t, "a/cgroup.subtree_control"))
		require.Equal(t, "", f.file(t, "a/b/cgroup.subtree_control"), "the leaf enables nothing")
	})
	t.Run("v2 already enabled controllers left alone", func(t *testing.T) {
		f := newFake(t, fakeSpec{unified: []string{"pids"}})
		writeFakeFile(t, f.root, "cgroup.subtree_control", "pids\n")
		g := f.group(t, "/a")
		require.NoError(t, g.Create())
		require.Equal(t, "pids\n", f.file(t, "cgroup.subtree_control"))
	})
	t.Run("failed create leaves no directory", func(t *testing.T) {
		f := newFake(t, fakeHybrid)
		g, err := f.host.Group("/x/ctr")
		require.NoError(t, err)
		// Without a kernel to fill them, the new cpuset directories have
		// no cpuset.cpus to read, so Create fails half way.
		err = g.Create()
		require.ErrorContains(t, err, "create cgroup /x/ctr")
		for _, d := range g.(*group).dirs {
			require.NoDirExists(t, filepath.Dir(d.dir))
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		f := newFake(t, fakeV2)
		g := f.group(t, "/ctr")
		require.NoError(t, g.Create())
		require.NoError(t, g.Create())
		require.DirExists(t, filepath.Join(f.root, "ctr"))
	})
}
