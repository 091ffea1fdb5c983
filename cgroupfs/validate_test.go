package cgroupfs

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

func TestValidateResources(t *testing.T) {
	dev := func(major, minor int64) specs.LinuxBlockIODevice {
		return specs.LinuxBlockIODevice{Major: major, Minor: minor}
	}
	tests := []struct {
		name    string
		spec    fakeSpec // the host; fakeV1 when empty
		res     *specs.LinuxResources
		wantErr error
		wantMsg string // "" = valid
	}{
		{name: "nil", res: nil},
		{name: "full resources on v1", spec: fakeV1, res: fullResources()},
		{name: "full resources on hybrid", spec: fakeHybrid, res: fullResources()},
		{name: "full resources on v2 (devices only warned)", spec: fakeV2, res: fullResources()},
		{name: "unlimited everywhere", res: &specs.LinuxResources{
			Memory: &specs.LinuxMemory{Limit: ptr(int64(-1)), Swap: ptr(int64(-1)), Reservation: ptr(int64(-1))},
			CPU:    &specs.LinuxCPU{Quota: ptr(int64(-1))},
			Pids:   &specs.LinuxPids{Limit: ptr(int64(-1))},
		}},
		{
			name:    "swap below limit",
			res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(2000)), Swap: ptr(int64(1000))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.memory.swap: must be >= memory.limit (got 1000 < 2000)",
		},
		{
			name:    "finite swap without limit",
			res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Swap: ptr(int64(1000))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.memory.swap: a finite swap limit needs a finite memory.limit",
		},
		{
			name:    "negative limit",
			res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(-2))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.memory.limit: must be -1 (unlimited) or at least 1 (got -2)",
		},
		{
			name:    "zero memory limit",
			res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr(int64(0))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.memory.limit: must be -1 (unlimited) or at least 1 (got 0)",
		},
		{
			name:    "swappiness",
			res:     &specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr(uint64(101))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.memory.swappiness: must be between 0 and 100 (got 101)",
		},
		{
			name:    "negative pids",
			res:     &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(-7))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.pids.limit: must be -1 (unlimited) or at least 0 (got -7)",
		},
		{
			name:    "shares out of range",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr(uint64(1))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.shares: must be between 2 and 262144 (got 1)",
		},
		{
			name:    "period 0",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(10000)), Period: ptr(uint64(0))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.period: must be between 1000 and 1000000 microseconds (got 0)",
		},
		{
			name:    "period too long",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Period: ptr(uint64(2000000))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.period: must be between 1000 and 1000000 microseconds (got 2000000)",
		},
		{
			name:    "quota too small",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(10))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.quota: must be -1 (unlimited) or at least 1000 microseconds (got 10)",
		},
		{
			name:    "burst above quota",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: ptr(int64(10000)), Burst: ptr(uint64(20000))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.burst: must be <= cpu.quota (got 20000 > 10000)",
		},
		{
			name:    "realtime runtime above period",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr(int64(2000)), RealtimePeriod: ptr(uint64(1000))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.realtimeRuntime: must be <= cpu.realtimePeriod (got 2000 > 1000)",
		},
		{
			name:    "cpus list",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1,x"}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.cpu.cpus: "0-1,x" is not a list like "0-1,3"`,
		},
		{
			name:    "reversed range",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Mems: "3-1"}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.cpu.mems: "3-1" is not a list`,
		},
		{name: "good list", res: &specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "0-1,3", Mems: "0"}}},
		{
			name:    "idle",
			res:     &specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr(int64(2))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.cpu.idle: must be 0 or 1 (got 2)",
		},
		{
			name:    "blkio weight",
			res:     &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr(uint16(5))}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.blockIO.weight: must be between 10 and 1000 (got 5)",
		},
		{
			name: "weight device without weights",
			res: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{WeightDevice: []specs.LinuxWeightDevice{
				{LinuxBlockIODevice: dev(8, 0)},
			}}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight",
		},
		{
			name: "throttle device number",
			res: &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{ThrottleWriteBpsDevice: []specs.LinuxThrottleDevice{
				{LinuxBlockIODevice: dev(-1, 0), Rate: 1},
			}}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.blockIO.throttleWriteBpsDevice[0]: bad device number -1:0",
		},
		{
			name:    "page size",
			res:     &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2XB"}}},
			wantErr: ErrInvalidResources,
			wantMsg: "linux.resources.hugepageLimits[0].pageSize: page size \"2XB\"",
		},
		{
			name:    "device type",
			res:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Type: "x"}}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.devices[0].type: must be a, b or c (got "x")`,
		},
		{
			name:    "device access",
			res:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwx"}}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.devices[0].access: must combine r, w and m (got "rwx")`,
		},
		{
			name:    "rdma without limits",
			spec:    fakeV2,
			res:     &specs.LinuxResources{Rdma: map[string]specs.LinuxRdma{"mlx5_0": {}}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.rdma["mlx5_0"]: needs hcaHandles or hcaObjects`,
		},
		{
			name:    "unified key with a slash",
			spec:    fakeV2,
			res:     &specs.LinuxResources{Unified: map[string]string{"../memory.max": "1"}},
			wantErr: ErrInvalidResources,
			wantMsg: `linux.resources.unified["../memory.max"]: not a cgroup file name`,
		},
		{
			name:    "missing controller",
			spec:    fakeSpec{v1: [][]string{{"memory"}}},
			res:     &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr(int64(5))}},
			wantErr: ErrUnavailable,
			wantMsg: "linux.resources.pids: pids controller not available",
		},
		{
			name:    "devices on v1 without the controller",
			spec:    fakeSpec{v1: [][]string{{"memory"}}},
			res:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: true}}},
			wantErr: ErrUnavailable,
			wantMsg: "linux.resources.devices: devices controller not available",
		},
		{
			name:    "network on v2",
			spec:    fakeV2,
			res:     &specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr(uint32(1))}},
			wantErr: ErrUnavailable,
			wantMsg: "linux.resources.network.classID: net_cls controller not available",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			if spec.v1 == nil && spec.unified == nil {
				spec = fakeV1
			}
			f := newFake(t, spec)
			err := f.host.ValidateResources(tc.res)
			if tc.wantMsg == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorContains(t, err, tc.wantMsg)
		})
	}
}

// TestValidateReportsAll checks that every problem is reported at once,
// so a user can fix a config in one go.
func TestValidateReportsAll(t *testing.T) {
	f := newFake(t, fakeV1)
	err := f.host.ValidateResources(&specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: ptr(int64(-3))},
		CPU:    &specs.LinuxCPU{Shares: ptr(uint64(0))},
	})
	require.ErrorContains(t, err, "linux.resources.memory.limit")
	require.ErrorContains(t, err, "linux.resources.cpu.shares")
}
