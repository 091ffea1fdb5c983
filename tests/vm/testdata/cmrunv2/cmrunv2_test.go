// Package cmrunv2 runs a container with package runtime inside the test
// VM, whose kernel has a pure cgroup v2 hierarchy: the host is hybrid, so
// this is where the init's way into a v2 group (clone3 with
// CLONE_INTO_CGROUP) and its cgroup namespace are checked.
package cmrunv2

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime"
	"cm/runtime/spec"
	"cm/tests/fixture"
)

// TestMain lets this binary be its own container init, as cmrun is: the
// runtime starts the init as "/proc/self/exe init".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init() // only returns by exiting
	}
	os.Exit(m.Run())
}

func TestCgroupV2Entry(t *testing.T) {
	s := shSpec("cat /proc/self/cgroup /sys/fs/cgroup/pids.max")
	limit := int64(42)
	s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
	trace := runtime.NewTrace(true)
	got := runInVM(t, "v2entry", s, trace)
	// In the group (its pids limit) and at the root of its cgroup namespace.
	require.Equal(t, "0::/\n42\n", got)
	var steps strings.Builder
	trace.Print(&steps)
	require.Contains(t, steps.String(), "cgroup v2 by clone3", steps.String())
	leftovers, err := filepath.Glob("/sys/fs/cgroup/*v2entry*")
	require.NoError(t, err)
	nested, err := filepath.Glob("/sys/fs/cgroup/*/*v2entry*")
	require.NoError(t, err)
	require.Empty(t, append(leftovers, nested...), "the container's cgroup is removed")
}

// TestCgroupV2Devices performs issue #14's device attack on cgroup v2: a
// node listed in linux.devices while linux.resources.devices denies
// everything (the default spec) must not open; the default /dev/null
// must. On v2 only the eBPF device filter can refuse it.
func TestCgroupV2Devices(t *testing.T) {
	s := shSpec("if (echo cm-devices-test > /dev/kmsg) 2>/dev/null; then echo opened; " +
		"else (echo x > /dev/kmsg) 2>&1 | sed 's/.*: //'; fi; echo x > /dev/null && echo null-ok")
	s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
	require.Equal(t, "Operation not permitted\nnull-ok\n", runInVM(t, "v2devices", s, nil))
}

// TestCgroupV2MountPaths: without a cgroup namespace the "cgroup" mount
// binds the container's own v2 directory, for a relative cgroupsPath
// (below the runtime's cgroup, what containerd passes) and an absolute one.
func TestCgroupV2MountPaths(t *testing.T) {
	for _, path := range []string{"test.slice:cri-containerd:rel", "/abs-v2mount"} {
		t.Run(path, func(t *testing.T) {
			s := shSpec("cat /sys/fs/cgroup/pids.max; grep -x 1 /sys/fs/cgroup/cgroup.procs")
			s.Linux.CgroupsPath = path
			limit := int64(42)
			s.Linux.Resources.Pids = &specs.LinuxPids{Limit: &limit}
			fixture.WithoutNamespace(s, specs.CgroupNamespace)
			got := runInVM(t, "v2mount", s, nil)
			require.Equal(t, "42\n1\n", got, "the container's own group is at /sys/fs/cgroup")
		})
	}
}

// shSpec is the default spec running script with sh, without a terminal.
func shSpec(script string) *specs.Spec {
	s := spec.DefaultSpec()
	s.Process.Terminal = false
	s.Process.Args = []string{"sh", "-c", script}
	return s
}

// runInVM runs s to its end on a busybox rootfs as container id and
// returns what it printed; it must exit 0. trace may be nil.
func runInVM(t *testing.T, id string, s *specs.Spec, trace *runtime.Trace) string {
	t.Helper()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle")
	require.NoError(t, fixture.BusyboxRootfs(filepath.Join(bundle, "rootfs")))
	data, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(bundle, spec.ConfigFile), data, 0o644))
	out, err := os.Create(filepath.Join(dir, "out"))
	require.NoError(t, err)
	defer out.Close()
	if trace == nil {
		trace = runtime.NewTrace(false)
	}
	code, err := runtime.Run(runtime.RunOptions{CreateOptions: runtime.CreateOptions{
		SpawnOptions: runtime.SpawnOptions{
			Root: filepath.Join(dir, "state"), ID: id, Trace: trace,
			Stdio: [3]*os.File{nil, out, out},
		},
		BundleDir: bundle,
		NoPivot:   true, // the guest's root is the initramfs, which pivot_root refuses
	}})
	require.NoError(t, err)
	got, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	require.Equal(t, 0, code, "container output: %s", got)
	return string(got)
}
