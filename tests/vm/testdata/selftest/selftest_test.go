package selftest

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestArgs prints the positional arguments, to show they arrive intact.
func TestArgs(t *testing.T) {
	fmt.Printf("args: %q\n", flag.Args())
}

// TestEnvAndFile prints what the host put in the environment and in
// /etc/cm-vm/greeting.txt.
func TestEnvAndFile(t *testing.T) {
	fmt.Printf("env: %s\n", os.Getenv("CM_VM_GREETING"))
	data, err := os.ReadFile("/etc/cm-vm/greeting.txt")
	require.NoError(t, err)
	fmt.Printf("file: %s\n", data)
}

// TestGuest checks the guest the init script promises: root, libc
// works, a pure cgroup v2 hierarchy with the controllers handed down.
func TestGuest(t *testing.T) {
	require.Equal(t, 0, os.Geteuid())
	require.Equal(t, os.Getpid(), Pid())
	self, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	require.Equal(t, "0::/\n", string(self), "only the v2 hierarchy, and we are in its root")
	enabled, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	require.NoError(t, err)
	for _, c := range []string{"cpu", "memory", "pids", "io", "cpuset", "hugetlb"} {
		require.Contains(t, strings.Fields(string(enabled)), c)
	}
	fmt.Printf("controllers: %s", enabled)
}

// TestFail fails on purpose; the host runs it alone and expects exit 1.
func TestFail(t *testing.T) {
	t.Fatal("this failure is on purpose")
}
