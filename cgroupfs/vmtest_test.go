//go:build vmtest

package cgroupfs

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// These tests need a pure cgroup v2 host: they run inside the qemu VM,
// built with `go test -c -tags vmtest ./cgroupfs` and started as root by
// the VM's init, with cgroup2 mounted at /sys/fs/cgroup.

// v2Host detects the VM's cgroups and insists on the v2 layout with the
// controllers the checks use.
func v2Host(t *testing.T) *Host {
	t.Helper()
	require.Equal(t, 0, os.Geteuid(), "these tests need root")
	h, err := Detect()
	require.NoError(t, err)
	require.Equal(t, LayoutV2, h.Layout())
	for _, c := range []string{"memory", "pids", "cpu"} {
		require.NotNil(t, h.lookup(c), "controller %s in /sys/fs/cgroup/cgroup.controllers", c)
	}
	return h
}

func TestVMOOMKill(t *testing.T)   { checkOOMKill(t, v2Host(t)) }
func TestVMPidsLimit(t *testing.T) { checkPidsLimit(t, v2Host(t)) }
func TestVMCPUQuota(t *testing.T)  { checkCPUQuota(t, v2Host(t)) }
func TestVMDestroy(t *testing.T)   { checkDestroy(t, v2Host(t)) }

// TestVMFreeze also checks the v2 freezer is the one used.
func TestVMFreeze(t *testing.T) {
	h := v2Host(t)
	checkFreeze(t, h)

	g := newRealGroup(t, h, "freeze-file")
	startInGroup(t, g, "sleep 1000")
	require.NoError(t, g.Freeze())
	dir, _ := g.unifiedDir()
	v, err := readFile(dir, "cgroup.freeze")
	require.NoError(t, err)
	require.Equal(t, "1", v)
	require.NoError(t, g.Thaw())
	v, err = readFile(dir, "cgroup.freeze")
	require.NoError(t, err)
	require.Equal(t, "0", v)
}

// TestVMKillAll also checks that cgroup.kill, which KillAll uses for
// SIGKILL, is there.
func TestVMKillAll(t *testing.T) {
	h := v2Host(t)
	g := newRealGroup(t, h, "kill-file")
	dir, _ := g.unifiedDir()
	require.FileExists(t, dir+"/cgroup.kill", "cgroup.kill needs Linux 5.14")
	checkKillAll(t, h)
}

// TestVMDevices: Apply enforces device rules on cgroup v2 with an eBPF
// program, and replaces it on a second Apply.
func TestVMDevices(t *testing.T) {
	h := v2Host(t)
	require.Nil(t, h.lookup("devices"), "no v1 devices controller in the VM")
	g := newRealGroup(t, h, "devices")
	dir, _ := g.unifiedDir()
	checkDevicesBPF(t, g, dir, func(rules []specs.LinuxDeviceCgroup) error {
		w, err := g.Apply(&specs.LinuxResources{Devices: rules})
		require.Empty(t, w)
		return err
	})
}

// TestVMFiles checks the v2 files and units Apply writes on a real
// kernel, and that Create enabled the controllers in the parent.
func TestVMFiles(t *testing.T) {
	h := v2Host(t)
	g := newRealGroup(t, h, "files")
	warnings, err := g.Apply(&specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr(int64(16 << 20)), Reservation: ptr(int64(8 << 20))},
		CPU:     &specs.LinuxCPU{Shares: ptr(uint64(1024)), Quota: ptr(int64(10000)), Period: ptr(uint64(100000))},
		Pids:    &specs.LinuxPids{Limit: ptr(int64(8))},
		Unified: map[string]string{"memory.high": "12582912"},
	})
	require.NoError(t, err)
	require.Empty(t, warnings)

	dir, _ := g.unifiedDir()
	for file, want := range map[string]string{
		"memory.max":  "16777216",
		"memory.low":  "8388608",
		"memory.high": "12582912",
		"cpu.max":     "10000 100000",
		"cpu.weight":  "39",
		"pids.max":    "8",
	} {
		got, err := readFile(dir, file)
		require.NoError(t, err)
		require.Equal(t, want, got, file)
	}
	enabled, err := readFile(h.unified.mountpoint, "cgroup.subtree_control")
	require.NoError(t, err)
	for _, c := range []string{"memory", "pids", "cpu"} {
		require.Contains(t, strings.Fields(enabled), c)
	}

	// Statistics come from the v2 files.
	s, err := g.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(16<<20), s.Memory.Limit)
	require.Equal(t, uint64(8), s.Pids.Limit)
	require.NoError(t, g.KillAll(unix.SIGKILL))
}
