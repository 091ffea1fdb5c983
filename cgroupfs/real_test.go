//go:build !vmtest

package cgroupfs

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// These tests run on the CI machine itself: root, cgroups in the v1 or
// hybrid layout. The cgroup v2 versions are in vmtest_test.go.

// realHost detects this machine's cgroups and insists on a v1 layout.
func realHost(t *testing.T) *Host {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "these tests need root")
	h, err := Detect()
	require.NoError(t, err)
	require.Contains(t, []Layout{LayoutV1, LayoutHybrid}, h.Layout())
	return h
}

func TestRealOOMKill(t *testing.T)   { checkOOMKill(t, realHost(t)) }
func TestRealPidsLimit(t *testing.T) { checkPidsLimit(t, realHost(t)) }
func TestRealCPUQuota(t *testing.T)  { checkCPUQuota(t, realHost(t)) }
func TestRealFreeze(t *testing.T)    { checkFreeze(t, realHost(t)) }
func TestRealKillAll(t *testing.T)   { checkKillAll(t, realHost(t)) }
func TestRealDestroy(t *testing.T)   { checkDestroy(t, realHost(t)) }

// TestRealDevices: the v1 device rules really deny a device. /dev/null
// is allowed, /dev/zero is not.
func TestRealDevices(t *testing.T) {
	g := newRealGroup(t, realHost(t), "devices")
	_, err := g.Apply(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rw"},
	}})
	require.NoError(t, err)
	d, _ := g.dirOf("devices")
	list, err := readFile(d.dir, "devices.list")
	require.NoError(t, err)
	require.Equal(t, "c 1:3 rw", list)

	p := startInGroup(t, g, "echo x > /dev/null && echo null-ok; "+busybox+" head -c1 /dev/zero > /dev/null 2>&1 || echo zero-denied")
	p.wait(t)
	out := p.readOutput(t)
	require.Contains(t, out, "null-ok")
	require.Contains(t, out, "zero-denied")
}

// TestRealDevicesBPF: on this hybrid host, the cgroup2 mount takes eBPF
// device filters too, so the v2 way is checked here as well as in the VM
// (Apply itself uses the v1 controller here).
func TestRealDevicesBPF(t *testing.T) {
	h := realHost(t)
	require.Equal(t, LayoutHybrid, h.Layout(), "this test needs the cgroup2 mount of a hybrid host")
	g := newRealGroup(t, h, "devices-bpf")
	dir, ok := g.unifiedDir()
	require.True(t, ok)
	checkDevicesBPF(t, g, dir, func(rules []specs.LinuxDeviceCgroup) error { return applyV2Devices(dir, rules) })
}

// TestRealHybridHugetlb: on a hybrid host, huge page limits go to the
// unified hierarchy when hugetlb is bound there, while memory limits stay
// in v1.
func TestRealHybridHugetlb(t *testing.T) {
	h := realHost(t)
	hi := h.lookup("hugetlb")
	require.NotNil(t, hi, "this machine has a hugetlb controller")
	g := newRealGroup(t, h, "hugetlb")
	_, err := g.Apply(&specs.LinuxResources{
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
		Memory:         &specs.LinuxMemory{Limit: ptr(int64(32 << 20))},
	})
	require.NoError(t, err)
	d, _ := g.dirOf("hugetlb")
	file := "hugetlb.2MB.limit_in_bytes"
	if d.h.v2 {
		file = "hugetlb.2MB.max"
	}
	v, err := readFile(d.dir, file)
	require.NoError(t, err)
	require.Equal(t, "4194304", v)
	s, err := g.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(32<<20), s.Memory.Limit)
	require.Equal(t, uint64(4<<20), s.Hugetlb["2MB"].Limit)
}

// TestRealUnifiedTracking: on a hybrid host a process added to the group
// is tracked in the unified hierarchy too, as systemd expects.
func TestRealUnifiedTracking(t *testing.T) {
	h := realHost(t)
	g := newRealGroup(t, h, "tracking")
	p := startInGroup(t, g, "sleep 1000")
	for _, d := range g.dirs {
		procs, err := readFile(d.dir, "cgroup.procs")
		require.NoError(t, err)
		require.Contains(t, strings.Fields(procs), strconv.Itoa(p.cmd.Process.Pid), d.dir)
	}
}
