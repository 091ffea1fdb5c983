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
	kernel := testKernel(t)
	bin := buildTestBinary(t, "./cgroupfs", "vmtest")

	res, err := Run(context.Background(), Options{
		Kernel:  kernel,
		Binary:  bin,
		Args:    []string{"-test.v"},
		Timeout: 3 * time.Minute,
	})
	if res != nil {
		t.Logf("boot %s, whole run %s, initramfs %d bytes; cgroupfs output:\n%s",
			res.BootTime, res.Elapsed, res.InitramfsSize, res.Output)
	}
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "cgroupfs tests failed in the VM; console:\n%s", res.Console)
	require.Contains(t, res.Output, "--- PASS: TestVM", "the vmtest tests ran")
	require.NotContains(t, res.Output, "--- FAIL")
	require.NotContains(t, res.Output, "--- SKIP", "every test must really run on v2")
}

// TestRuntimeCgroupV2 runs a container inside the VM (package runtime, in
// the test binary): the init is cloned into its v2 group and sees that
// group as the root of its cgroup namespace.
func TestRuntimeCgroupV2(t *testing.T) {
	kernel := testKernel(t)
	bin := buildTestBinary(t, "./tests/vm/testdata/cmrunv2")

	res, err := Run(context.Background(), Options{
		Kernel:  kernel,
		Binary:  bin,
		Args:    []string{"-test.v"},
		Timeout: 3 * time.Minute,
	})
	if res != nil {
		t.Logf("boot %s, whole run %s; output:\n%s", res.BootTime, res.Elapsed, res.Output)
	}
	require.NoError(t, err)
	require.Equal(t, 0, res.ExitCode, "the container test failed in the VM; console:\n%s", res.Console)
	require.Contains(t, res.Output, "--- PASS: TestCgroupV2Entry")
}
