package vm

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCgroupfsV2 runs cgroupfs's tests on a real cgroup v2 kernel: the
// package built with the vmtest tag (cgroupfs/*_vmtest_test.go joins
// in), booted with every controller enabled in the root. The host is
// hybrid, so this is the only place those tests can run.
func TestCgroupfsV2(t *testing.T) {
	out := runTestsInVM(t, "./cgroupfs", "vmtest")
	require.Contains(t, out, "--- PASS: TestVM", "the vmtest tests ran")
	require.NotContains(t, out, "--- FAIL")
	require.NotContains(t, out, "--- SKIP", "every test must really run on v2")
}

// TestRuntimeCgroupV2 runs containers inside the VM (package runtime, in
// the test binary): the init is cloned into its v2 group and sees that
// group as the root of its cgroup namespace, and a device the config
// denies cannot be opened.
func TestRuntimeCgroupV2(t *testing.T) {
	out := runTestsInVM(t, "./tests/vm/testdata/cmrunv2")
	require.Contains(t, out, "--- PASS: TestCgroupV2Entry")
	require.Contains(t, out, "--- PASS: TestCgroupV2Devices")
	require.Contains(t, out, "--- PASS: TestCgroupV2MountPaths")
}

// runTestsInVM builds pkg's tests (with tags), runs them verbosely in the
// VM, requires them to pass and returns their output.
func runTestsInVM(t *testing.T, pkg string, tags ...string) string {
	t.Helper()
	kernel := testKernel(t)
	bin := buildTestBinary(t, pkg, tags...)
	res, err := Run(context.Background(), Options{
		Kernel:  kernel,
		Binary:  bin,
		Args:    []string{"-test.v"},
		Timeout: 3 * time.Minute,
	})
	if res != nil {
		t.Logf("boot %s, whole run %s, initramfs %d bytes; output of %s:\n%s",
			res.BootTime, res.Elapsed, res.InitramfsSize, pkg, res.Output)
	}
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "%s failed in the VM; console:\n%s", pkg, res.Console)
	return res.Output
}
