package cgroupfs

import (
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// checkDevicesBPF: the eBPF device filter on the cgroup v2 directory dir
// of g enforces the rules that apply puts there, and a second apply
// replaces the first filter. Shared by the hybrid host (its cgroup2 mount)
// and the cgroup v2 VM.
func checkDevicesBPF(t *testing.T, g *group, dir string, apply func([]specs.LinuxDeviceCgroup) error) {
	tmp := t.TempDir()
	run := func(script string) string {
		p := startInGroup(t, g, script)
		p.wait(t)
		return p.readOutput(t)
	}
	// Each line prints the device access and whether the kernel allowed it.
	script := "echo x > /dev/null && echo null-write-ok; " +
		busybox + " head -c1 /dev/zero > /dev/null 2>&1 && echo zero-read-ok; " +
		"(echo x > /dev/zero) 2>/dev/null && echo zero-write-ok; " +
		busybox + " head -c1 /dev/full > /dev/null 2>&1 && echo full-read-ok; " +
		busybox + " mknod " + filepath.Join(tmp, "c") + " c 1 7 2>/dev/null && echo mknod-char-ok; " +
		busybox + " mknod " + filepath.Join(tmp, "b") + " b 7 200 2>/dev/null && echo mknod-block-ok; true"

	// Deny-all with exceptions: only what they grant, in full.
	require.NoError(t, apply([]specs.LinuxDeviceCgroup{
		denyAll,
		deviceRule(true, "c", 1, 3, "rw"),
		deviceRule(true, "c", 1, 5, "r"),
		deviceRule(true, "c", -1, -1, "m"),
	}))
	require.Equal(t, "null-write-ok\nzero-read-ok\nmknod-char-ok\n", run(script))

	// Allow-all with exceptions: replaces the filter, does not add one.
	require.NoError(t, unix.Unlink(filepath.Join(tmp, "c")))
	require.NoError(t, apply([]specs.LinuxDeviceCgroup{
		{Allow: true},
		deviceRule(false, "c", 1, 5, "w"),
		deviceRule(false, "b", -1, -1, "m"),
	}))
	require.Equal(t, "null-write-ok\nzero-read-ok\nfull-read-ok\nmknod-char-ok\n", run(script))
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	require.NoError(t, err)
	defer unix.Close(fd)
	ids, err := attachedDeviceFilters(fd)
	require.NoError(t, err)
	require.Len(t, ids, 1, "the update replaced the filter")
}
